// function_traits: signatures of every supported callable kind.

#include "greenrpc/rpc/function_traits.hpp"

#include <functional>
#include <string>
#include <tuple>
#include <type_traits>

#include <gtest/gtest.h>

namespace {

using greenrpc::codec::function_traits;

int free_add(int a, const std::string& b) { return a + static_cast<int>(b.size()); }
void free_noexcept(double) noexcept {}

struct Service {
    std::string name(int) const { return {}; }
    void set(const std::string&, std::string&&) {}
    int count() const noexcept { return 0; }
    long rvalue_only(int) && { return 0; }
};

struct Functor {
    bool operator()(char, const std::string&) const { return true; }
};

TEST(FunctionTraits, Lambda) {
    auto lambda = [](int, const std::string&, double) { return 1.5f; };
    using traits = function_traits<decltype(lambda)>;
    static_assert(std::is_same_v<traits::result_type, float>);
    static_assert(std::is_same_v<traits::args_tuple, std::tuple<int, std::string, double>>);
    static_assert(std::is_same_v<traits::raw_args, std::tuple<int, const std::string&, double>>);
    static_assert(std::is_same_v<traits::arg<1>, const std::string&>);
    static_assert(traits::arity == 3);
    static_assert(!traits::is_noexcept);
    EXPECT_EQ(traits::arity, 3u);
}

TEST(FunctionTraits, MutableAndNoexceptLambda) {
    int calls = 0;
    auto counter = [calls](std::string&& text) mutable { return ++calls + static_cast<int>(text.size()); };
    using traits = function_traits<decltype(counter)>;
    static_assert(std::is_same_v<traits::result_type, int>);
    static_assert(std::is_same_v<traits::raw_args, std::tuple<std::string&&>>);
    static_assert(std::is_same_v<traits::args_tuple, std::tuple<std::string>>);

    auto quiet = []() noexcept {};
    using quiet_traits = function_traits<decltype(quiet)>;
    static_assert(std::is_same_v<quiet_traits::result_type, void>);
    static_assert(quiet_traits::arity == 0);
    static_assert(quiet_traits::is_noexcept);
    EXPECT_EQ(counter(std::string("ab")), 3);
}

TEST(FunctionTraits, CvRefQualifiedCallableTypes) {
    auto lambda = [](int) { return 0L; };
    static_assert(std::is_same_v<function_traits<const decltype(lambda)&>::result_type, long>);
    static_assert(std::is_same_v<function_traits<decltype(lambda)&&>::args_tuple, std::tuple<int>>);
    SUCCEED();
}

TEST(FunctionTraits, FreeFunctionPointerAndReference) {
    using by_pointer = function_traits<decltype(&free_add)>;
    static_assert(std::is_same_v<by_pointer::result_type, int>);
    static_assert(std::is_same_v<by_pointer::args_tuple, std::tuple<int, std::string>>);
    static_assert(std::is_same_v<by_pointer::raw_args, std::tuple<int, const std::string&>>);
    static_assert(by_pointer::arity == 2);

    using by_type = function_traits<decltype(free_add)>;
    static_assert(std::is_same_v<by_type::args_tuple, by_pointer::args_tuple>);
    using by_reference = function_traits<decltype(free_add)&>;
    static_assert(std::is_same_v<by_reference::result_type, int>);

    using noexcept_pointer = function_traits<decltype(&free_noexcept)>;
    static_assert(noexcept_pointer::is_noexcept);
    static_assert(std::is_same_v<noexcept_pointer::args_tuple, std::tuple<double>>);
    SUCCEED();
}

TEST(FunctionTraits, MemberFunctionPointers) {
    using const_member = function_traits<decltype(&Service::name)>;
    static_assert(std::is_same_v<const_member::class_type, Service>);
    static_assert(std::is_same_v<const_member::result_type, std::string>);
    static_assert(std::is_same_v<const_member::args_tuple, std::tuple<int>>);
    static_assert(const_member::arity == 1);

    using mutable_member = function_traits<decltype(&Service::set)>;
    static_assert(std::is_same_v<mutable_member::class_type, Service>);
    static_assert(std::is_same_v<mutable_member::result_type, void>);
    static_assert(std::is_same_v<mutable_member::raw_args, std::tuple<const std::string&, std::string&&>>);
    static_assert(std::is_same_v<mutable_member::args_tuple, std::tuple<std::string, std::string>>);

    using noexcept_member = function_traits<decltype(&Service::count)>;
    static_assert(noexcept_member::is_noexcept);
    static_assert(noexcept_member::arity == 0);

    using rvalue_member = function_traits<decltype(&Service::rvalue_only)>;
    static_assert(std::is_same_v<rvalue_member::result_type, long>);
    SUCCEED();
}

template <typename T>
concept has_class_type = requires { typename T::class_type; };

TEST(FunctionTraits, FunctorAndStdFunction) {
    using functor = function_traits<Functor>;
    static_assert(std::is_same_v<functor::result_type, bool>);
    static_assert(std::is_same_v<functor::args_tuple, std::tuple<char, std::string>>);
    static_assert(!has_class_type<functor>, "functors expose no class_type");

    using function = function_traits<std::function<std::string(int, const double&)>>;
    static_assert(std::is_same_v<function::result_type, std::string>);
    static_assert(std::is_same_v<function::raw_args, std::tuple<int, const double&>>);
    static_assert(std::is_same_v<function::args_tuple, std::tuple<int, double>>);
    static_assert(function::arity == 2);
    SUCCEED();
}

}  // namespace
