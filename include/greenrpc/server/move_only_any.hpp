#pragma once
// greenrpc::MoveOnlyAny: one value of any type, like std::any, except that the value need not be
// copyable. Connection state (ConnState<T>) lives in one, so T may hold a std::unique_ptr, a file
// descriptor wrapper or a mutex. The value is allocated once and never moves afterwards: moving
// a MoveOnlyAny moves the pointer, and from_factory builds the value in place, so a T made by a
// factory need not even be movable.
#include <functional>
#include <memory>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace greenrpc {

namespace detail {
// Destroys a MoveOnlyAny's value through the function made for its type.
struct TypeErasedDeleter {
  void (*destroy)(void*) noexcept = nullptr;
  void operator()(void* p) const noexcept { destroy(p); }
};
}  // namespace detail

class MoveOnlyAny {
 public:
  MoveOnlyAny() noexcept = default;

  // Holds a T built from `args`.
  template <class T, class... Args>
  explicit MoveOnlyAny(std::in_place_type_t<T>, Args&&... args)
      : value_(new T(std::forward<Args>(args)...), Deleter{&destroy<T>}), type_(&typeid(T)) {
    static_assert(std::is_object_v<T> && !std::is_const_v<T>, "MoveOnlyAny holds a non-const object type");
  }

  // Holds `factory()`'s result, constructed in place from the returned prvalue (no move).
  template <class F>
  static MoveOnlyAny from_factory(F&& factory) {
    using T = std::remove_cvref_t<std::invoke_result_t<F&>>;
    static_assert(!std::is_void_v<T>, "the factory must return the value to hold");
    MoveOnlyAny any;
    any.value_ = Owned(new T(std::invoke(factory)), Deleter{&destroy<T>});
    any.type_ = &typeid(T);
    return any;
  }

  MoveOnlyAny(MoveOnlyAny&& other) noexcept
      : value_(std::move(other.value_)), type_(std::exchange(other.type_, nullptr)) {}
  MoveOnlyAny& operator=(MoveOnlyAny&& other) noexcept {
    value_ = std::move(other.value_);
    type_ = std::exchange(other.type_, nullptr);
    return *this;
  }
  MoveOnlyAny(const MoveOnlyAny&) = delete;
  MoveOnlyAny& operator=(const MoveOnlyAny&) = delete;

  bool has_value() const noexcept { return value_ != nullptr; }
  // typeid(void) when empty, as std::any::type().
  const std::type_info& type() const noexcept { return type_ ? *type_ : typeid(void); }

  // The held value if it is a T (cv-qualifiers of T ignored), else nullptr.
  template <class T>
  T* get_if() noexcept {
    return holds<T>() ? static_cast<T*>(value_.get()) : nullptr;
  }
  template <class T>
  const T* get_if() const noexcept {
    return holds<T>() ? static_cast<const T*>(value_.get()) : nullptr;
  }

  void reset() noexcept {
    value_.reset();
    type_ = nullptr;
  }

 private:
  using Deleter = detail::TypeErasedDeleter;
  using Owned = std::unique_ptr<void, Deleter>;

  template <class T>
  static void destroy(void* p) noexcept {
    delete static_cast<T*>(p);
  }
  template <class T>
  bool holds() const noexcept {
    return value_ && *type_ == typeid(T);  // typeid drops top-level cv-qualifiers
  }

  Owned value_;
  const std::type_info* type_ = nullptr;
};

}  // namespace greenrpc
