// The line-by-line child process `xmem bench` keeps per memory source.
#include "served_child.h"

#include <xmem/error.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

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

// Running: the process exists and is no zombie (a zombie holds no memory any more).
bool running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return false;
  const auto end = text.rfind(") ");
  return end != std::string::npos && text[end + 2] != 'Z' && text[end + 2] != 'X';
}

// A bench killed with SIGKILL must not leave its children hashing on: they hold huge pages that
// `xmem release` is to put back. They die with it.
TEST(ServedChild, DiesWithTheBench) {
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t bench = ::fork();
  ASSERT_GE(bench, 0);
  if (bench == 0) {
    ::close(report[0]);
    ServedChild child({"/bin/sh", "-c", "echo \"{\\\"pid\\\": $$}\"; exec sleep 60"}, {});
    const auto line = child.readJsonLine().value_or("{}");
    (void)!::write(report[1], line.data(), line.size());
    ::close(report[1]);
    ::pause();  // until killed
    ::_exit(0);
  }
  ::close(report[1]);
  char text[64] = {};
  (void)!::read(report[0], text, sizeof text - 1);
  ::close(report[0]);
  const std::string line = text;
  const auto colon = line.find(':');
  ASSERT_NE(colon, std::string::npos) << "the child did not say its pid: " << line;
  const pid_t child = static_cast<pid_t>(std::atoi(line.c_str() + colon + 1));
  ASSERT_GT(child, 0) << line;
  ASSERT_TRUE(running(child));
  ::kill(bench, SIGKILL);
  ::waitpid(bench, nullptr, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (running(child) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(running(child)) << "the bench's child outlived it";
  if (running(child)) ::kill(child, SIGKILL);
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
