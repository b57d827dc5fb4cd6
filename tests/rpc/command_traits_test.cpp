// CommandTraits with designated initializers: compiled with -Wextra -Werror (tests/rpc/meson.build),
// so a member that makes `{.idempotent = true}` warn breaks the build.
#include <gtest/gtest.h>

#include "greenrpc/rpc/command.hpp"
#include "greenrpc/rpc/command_traits.hpp"

TEST(CommandTraits, DesignatedInitializersNameOnlyWhatTheySet) {
  greenrpc::CommandTraits idempotent{.idempotent = true};
  greenrpc::CommandTraits documented{.summary = "adds"};
  EXPECT_TRUE(idempotent.idempotent);
  EXPECT_TRUE(idempotent.summary.empty());
  EXPECT_FALSE(documented.idempotent);
  EXPECT_EQ(documented.summary, "adds");
}

TEST(CommandTraits, ACommandCarriesItsTraits) {
  const greenrpc::Command<int(int)> bump{"bump", {"n"}, {.idempotent = true}};
  EXPECT_TRUE(bump.idempotent());
  EXPECT_EQ(bump.name(), "bump");
}
