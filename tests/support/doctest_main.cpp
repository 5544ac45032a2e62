// doctest_main.cpp: the shared main() of every doctest binary.
//
// A run that names its test cases (--test-case=..., as CTest runs each discovered case)
// fails when none of them ran. CMake splits a test case name at ';' into two CTest tests
// whose filters match nothing: doctest alone would report success for both, and the case
// would never run (15 cases were lost that way until this check).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>

namespace {

/// Test cases that passed the filters in this run (-1: no run ended).
int& cases_run() {
  static int n = -1;
  return n;
}

struct CountCases final : doctest::IReporter {
  explicit CountCases(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& s) override {
    cases_run() = static_cast<int>(s.numTestCasesPassingFilters);
  }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

} // namespace

DOCTEST_REGISTER_LISTENER("count_cases", 1, CountCases);

int main(int argc, char** argv) {
  doctest::Context ctx(argc, argv);
  int rc = ctx.run();
  if (ctx.shouldExit())
    return rc;
  bool named = false;
  for (int i = 1; i < argc; ++i)
    named = named || !std::strncmp(argv[i], "--test-case=", 12) ||
            !std::strncmp(argv[i], "-tc=", 4);
  if (named && cases_run() == 0) {
    std::fprintf(stderr, "error: no test case matches the --test-case filter (CTest splits a "
                         "name holding ';' in two)\n");
    return 1;
  }
  return rc;
}
