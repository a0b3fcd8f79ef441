#include "goldensignals/agents/agent.hpp"

#include <exception>

namespace gs {

void Agent::start(std::shared_ptr<const AgentContext> ctx, Deadline /*deadline*/, Done done) const {
  AgentOutcome out;
  try {
    out.vote = analyze(*ctx);
  } catch (const std::exception& e) {
    out.failed = true;
    out.error = std::string("raised: ") + e.what();
  } catch (...) {
    out.failed = true;
    out.error = "raised a non-standard exception";
  }
  done(std::move(out));
}

}  // namespace gs
