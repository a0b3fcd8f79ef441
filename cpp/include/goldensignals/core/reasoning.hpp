// Why an agent voted as it did: lines of text, written up front or when first read.
#pragma once

#include <atomic>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace gs {

// A vote's reasoning. Most votes are never shown to anyone (a backtest scores only actions
// and confidences), and formatting numbers into text is most of a native agent's work, so
// an agent may hand over a writer instead of the text: it runs on the first read, once, on
// the reading thread, and every copy of the Reasoning shares what it wrote. Reads are safe
// from any number of threads. Reading is the one way to tell the two kinds apart.
class Reasoning {
 public:
  using Lines = std::vector<std::string>;

  Reasoning() = default;
  Reasoning(Lines lines) : lines_(std::move(lines)) {}  // NOLINT(google-explicit-constructor)
  Reasoning(std::initializer_list<std::string> lines) : lines_(lines) {}

  // Lines that `write` (a callable returning Lines) makes when they are first read. It must
  // depend only on what it captured by value: it may run long after the analysis, on
  // another thread, or never.
  template <class Write>
  static Reasoning later(Write write) {
    static_assert(std::is_invocable_r_v<Lines, const Write&>, "later() takes a Lines() callable");
    Reasoning r;
    r.later_ = std::make_shared<Writer<Write>>(std::move(write));
    return r;
  }

  [[nodiscard]] const Lines& lines() const {
    if (!later_) return lines_;
    Deferred& d = *later_;
    if (!d.written.load(std::memory_order_acquire)) {
      std::call_once(d.once, [&d] {
        d.lines = d.write();
        d.written.store(true, std::memory_order_release);
      });
    }
    return d.lines;
  }
  operator const Lines&() const { return lines(); }  // NOLINT(google-explicit-constructor)

  // True while a writer has not run yet (for tests: proof that nothing read the lines).
  [[nodiscard]] bool pending() const {
    return later_ && !later_->written.load(std::memory_order_acquire);
  }

  [[nodiscard]] bool empty() const { return lines().empty(); }
  [[nodiscard]] std::size_t size() const { return lines().size(); }
  [[nodiscard]] Lines::const_iterator begin() const { return lines().begin(); }
  [[nodiscard]] Lines::const_iterator end() const { return lines().end(); }
  [[nodiscard]] const std::string& front() const { return lines().front(); }
  [[nodiscard]] const std::string& operator[](std::size_t i) const { return lines()[i]; }

  friend bool operator==(const Reasoning& a, const Reasoning& b) { return a.lines() == b.lines(); }

 private:
  struct Deferred {
    Deferred() = default;
    Deferred(const Deferred&) = delete;
    Deferred& operator=(const Deferred&) = delete;
    virtual ~Deferred() = default;
    [[nodiscard]] virtual Lines write() const = 0;
    std::once_flag once;
    std::atomic<bool> written{false};
    Lines lines;  // set once, under `once`
  };
  template <class Write>
  struct Writer final : Deferred {
    explicit Writer(Write w) : w_(std::move(w)) {}
    [[nodiscard]] Lines write() const override { return w_(); }
    Write w_;
  };

  Lines lines_;
  std::shared_ptr<Deferred> later_;
};

}  // namespace gs
