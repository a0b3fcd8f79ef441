// Per-symbol sequence numbers for room messages: the first is 1 and they only grow. In memory
// for now; the signal store will own them (and make them survive restarts) later.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace gs {

class Sequencer {
 public:
  virtual ~Sequencer() = default;
  virtual std::uint64_t next(const std::string& symbol) = 0;
  [[nodiscard]] virtual std::uint64_t last(const std::string& symbol) const = 0;
};

class MemorySequencer final : public Sequencer {
 public:
  std::uint64_t next(const std::string& symbol) override {
    std::lock_guard lk(mu_);
    return ++seq_[symbol];
  }
  [[nodiscard]] std::uint64_t last(const std::string& symbol) const override {
    std::lock_guard lk(mu_);
    auto it = seq_.find(symbol);
    return it == seq_.end() ? 0 : it->second;
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::uint64_t> seq_;  // one per symbol the runtime tracks
};

}  // namespace gs
