// file_io_test.cpp: whole-file reads and atomic writes, including the failure paths.
#include <doctest/doctest.h>

#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "runtime/file_io.h"
#include "runtime/json.h"
#include "test_util.h"

using namespace tevo;
using namespace tevo::rt;

namespace {
// The span views `s`: pass a string that outlives the call.
std::span<const uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}
} // namespace

TEST_CASE("file_io: write_file_atomic creates, replaces and reads back") {
  test::TempDir dir;
  std::string p = dir.path("f.bin");
  const std::string first = "first version";
  write_file_atomic(p, as_bytes(first));
  CHECK(read_file(p) == std::vector<uint8_t>(first.begin(), first.end()));
  std::vector<uint8_t> big(3 << 20);
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<uint8_t>(i * 131 + (i >> 16));
  write_file_atomic(p, big);
  CHECK(read_file(p) == big);
  write_file_atomic(p, {});
  CHECK(read_file(p).empty());
  CHECK_EQ(test::list_dir(dir.root()), std::vector<std::string>{"f.bin"});
}

TEST_CASE("file_io: read_file errors name the path and the reason") {
  test::TempDir dir;
  CHECK_EQ(error_of([&] { read_file(dir.path("nope")); }),
           dir.path("nope") + ": cannot open: No such file or directory");
  CHECK_EQ(error_of([&] { read_file(dir.root()); }),
           dir.root() + ": read failed: Is a directory");
}

TEST_CASE("file_io: a failed atomic write keeps the old file and removes its temp file") {
  test::TempDir dir;
  std::string p = dir.path("keep.txt");
  test::write_text(p, "old contents");
  std::vector<std::string> expected;

  SUBCASE("missing directory") {
    std::string q = dir.path("missing/x.txt");
    CHECK_EQ(error_of([&] { write_file_atomic(q, as_bytes("new")); }),
             q + ": cannot create temp file: No such file or directory");
    expected = {"keep.txt"};
  }
  SUBCASE("rename onto a non-empty directory") {
    std::string q = dir.path("d");
    test::make_dir(q + "/child");
    CHECK_EQ(error_of([&] { write_file_atomic(q, as_bytes("new")); }),
             q + ": rename failed: Is a directory");
    expected = {"d", "keep.txt"};
  }
  SUBCASE("read-only directory") {
    if (::geteuid() == 0) {
      MESSAGE("running as root: directory permissions are not enforced, skipped");
      expected = {"keep.txt"};
    } else {
      std::string ro = dir.path("ro");
      test::make_dir(ro);
      test::write_text(ro + "/f.txt", "old");
      ::chmod(ro.c_str(), 0555);
      CHECK_EQ(error_of([&] { write_file_atomic(ro + "/f.txt", as_bytes("new")); }),
               ro + "/f.txt: cannot create temp file: Permission denied");
      CHECK_EQ(test::list_dir(ro), std::vector<std::string>{"f.txt"});
      CHECK(test::read_bytes(ro + "/f.txt") == test::read_bytes(ro + "/f.txt"));
      ::chmod(ro.c_str(), 0755);
      expected = {"keep.txt", "ro"};
    }
  }
  auto now = test::read_bytes(p);
  CHECK_EQ(std::string(now.begin(), now.end()), "old contents");
  CHECK_EQ(test::list_dir(dir.root()), expected);
}
