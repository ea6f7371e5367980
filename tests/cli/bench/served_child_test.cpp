// The line-by-line child process `xmem bench` keeps per memory source.
#include "served_child.h"

#include <xmem/error.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace xmem::bench {
namespace {

using ::testing::HasSubstr;

TEST(ServedChild, AnswersLineByLineAndKeepsWhatIsNotJson) {
  ServedChild child({"/bin/sh", "-c", "echo starting; while read word; do echo \"{\\\"got\\\": \\\"$word\\\"}\"; done; exit 0"}, {});
  ASSERT_TRUE(child.send("one"));
  EXPECT_EQ(child.readJsonLine(), "{\"got\": \"one\"}");
  ASSERT_TRUE(child.send("two"));
  EXPECT_EQ(child.readJsonLine(), "{\"got\": \"two\"}");
  EXPECT_EQ(child.finish(), "") << "it ends at the end of its input, exit 0";
  EXPECT_EQ(child.why(), "starting\n");
}

TEST(ServedChild, SaysHowAChildEndedBadly) {
  ServedChild child({"/bin/sh", "-c", "echo 'no pages for the dataset'; exit 3"}, {});
  EXPECT_EQ(child.readJsonLine(), std::nullopt);
  EXPECT_EQ(child.finish(), "exited 3: no pages for the dataset");
  EXPECT_FALSE(child.send("hash 1")) << "writing to a child that is gone fails, without SIGPIPE";

  ServedChild killed({"/bin/sh", "-c", "kill -9 $$"}, {});
  EXPECT_THAT(killed.finish(), HasSubstr("killed by signal 9"));
  ServedChild missing({"/nonexistent/xmem-randomx"}, {});
  EXPECT_EQ(missing.finish(), "exited 127");
}

TEST(ServedChild, GetsItsOwnEnvironmentWithoutOurPreload) {
  ::setenv("LD_PRELOAD", "", 1);  // empty: harmless to this test's own children
  ::setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1);
  ServedChild child({"/bin/sh", "-c", "echo \"{\\\"preload\\\": \\\"${LD_PRELOAD-unset}\\\", \\\"tunables\\\": "
                                      "\\\"${GLIBC_TUNABLES-unset}\\\", \\\"mine\\\": \\\"$XMEM_SOURCE\\\"}\""},
                    {"XMEM_SOURCE=jemalloc", "GLIBC_TUNABLES=glibc.malloc.hugetlb=2"});
  EXPECT_EQ(child.readJsonLine(), "{\"preload\": \"unset\", \"tunables\": \"glibc.malloc.hugetlb=2\", \"mine\": \"jemalloc\"}");
  ::unsetenv("LD_PRELOAD");
  ::unsetenv("GLIBC_TUNABLES");
}

TEST(ServedChild, GoingOutOfScopeEndsAChildThatWaitsForInput) {
  pid_t pid = 0;
  {
    ServedChild child({"/bin/sh", "-c", "echo \"{\\\"pid\\\": $$}\"; cat > /dev/null"}, {});
    const auto line = child.readJsonLine();
    ASSERT_TRUE(line);
    pid = std::atoi(line->c_str() + 8);
    ASSERT_GT(pid, 0);
  }
  EXPECT_NE(::kill(pid, 0), 0) << "reaped: no such process";
}

}  // namespace
}  // namespace xmem::bench
