// safetensors_test.cpp: safetensors round trips, metadata, and the exact errors for
// hostile headers.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "runtime/json.h"
#include "runtime/safetensors.h"
#include "test_util.h"

using namespace tevo;
using namespace tevo::rt;

namespace {

HostTensor make_tensor(DType dt, std::vector<int64_t> shape) {
  HostTensor t;
  t.dtype = dt;
  t.shape = std::move(shape);
  t.data.resize(static_cast<size_t>(t.numel() * ir::dtype_size(dt)));
  for (size_t i = 0; i < t.data.size(); ++i)
    t.data[i] = static_cast<uint8_t>(i * 37 + 11); // every byte pattern is a valid bit pattern
  if (dt == DType::Bool)
    for (auto& b : t.data)
      b &= 1;
  return t;
}

const DType kAllDTypes[] = {
#define TEVO_DTYPE(e, name, st, bytes, kind) DType::e,
#include "ir/dtypes.def"
#undef TEVO_DTYPE
};

void check_same(const TensorFile& a, const TensorFile& b) {
  REQUIRE_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    CHECK_EQ(a.tensors[i].first, b.tensors[i].first);
    CHECK_EQ(a.tensors[i].second.dtype, b.tensors[i].second.dtype);
    CHECK_EQ(a.tensors[i].second.shape, b.tensors[i].second.shape);
    CHECK(a.tensors[i].second.data == b.tensors[i].second.data);
  }
  CHECK(a.metadata == b.metadata);
}

/// 8-byte length + header text + data.
std::vector<uint8_t> with_header(const std::string& header, size_t data_bytes = 0) {
  std::vector<uint8_t> out(8);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    out[static_cast<size_t>(i)] = static_cast<uint8_t>(n >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + data_bytes, 0);
  return out;
}

std::vector<uint8_t> with_length(uint64_t n, const std::string& rest) {
  std::vector<uint8_t> out(8);
  for (int i = 0; i < 8; ++i)
    out[static_cast<size_t>(i)] = static_cast<uint8_t>(n >> (8 * i));
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

std::string parse_error(const std::vector<uint8_t>& bytes) {
  try {
    parse_safetensors(bytes, "t.safetensors");
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  const std::string& offsets) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":" + offsets + "}";
}

} // namespace

TEST_CASE("safetensors: every dtype round-trips through bytes and through a file") {
  test::TempDir dir;
  for (DType dt : kAllDTypes) {
    CAPTURE(ir::dtype_name(dt));
    TensorFile f;
    f.tensors.emplace_back("x", make_tensor(dt, {2, 3}));
    f.tensors.emplace_back("scalar", make_tensor(dt, {}));
    f.tensors.emplace_back("empty", make_tensor(dt, {0, 5}));
    auto bytes = serialize_safetensors(f);
    TensorFile back = parse_safetensors(bytes, "mem");
    // The reader sorts by name.
    TensorFile sorted;
    sorted.tensors = {f.tensors[2], f.tensors[1], f.tensors[0]};
    check_same(back, sorted);
    std::string path = dir.path("w.safetensors");
    write_safetensors(path, f);
    check_same(read_safetensors(path), sorted);
  }
}

TEST_CASE("safetensors: the header is padded to 8 bytes and offsets are contiguous") {
  TensorFile f;
  f.tensors.emplace_back("b", make_tensor(DType::F16, {3}));
  f.tensors.emplace_back("a", make_tensor(DType::I64, {2}));
  auto bytes = serialize_safetensors(f);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | bytes[static_cast<size_t>(i)];
  CHECK_EQ(n % 8, 0);
  CHECK_EQ(bytes.size(), 8 + n + 6 + 16);
  std::string header(reinterpret_cast<const char*>(bytes.data() + 8), n);
  Json j = parse_json(header);
  CHECK_EQ(j.object()[0].first, "b"); // written in the given order
  const Json* off = j.find("a")->find("data_offsets");
  CHECK_EQ(off->array()[0].int_value, 6);
  CHECK_EQ(off->array()[1].int_value, 22);
}

TEST_CASE("safetensors: metadata keeps its order and arbitrary string contents") {
  TensorFile f;
  f.metadata = {{"format", "pt"},
                {"quote\"back\\slash", "line\nbreak\ttab\x01"},
                {"utf8", "\xc3\xa9\xe2\x82\xac"},
                {"", ""}};
  f.tensors.emplace_back("w", make_tensor(DType::F32, {4}));
  TensorFile back = parse_safetensors(serialize_safetensors(f), "mem");
  check_same(back, f);
  REQUIRE(back.meta("utf8"));
  CHECK_EQ(*back.meta("utf8"), "\xc3\xa9\xe2\x82\xac");
  CHECK_EQ(back.meta("missing"), nullptr);
  CHECK(back.find("w"));
  CHECK_EQ(back.find("v"), nullptr);
}

TEST_CASE("safetensors: a file with only metadata, or nothing, round-trips") {
  TensorFile f;
  check_same(parse_safetensors(serialize_safetensors(f), "mem"), f);
  f.metadata = {{"k", "v"}};
  check_same(parse_safetensors(serialize_safetensors(f), "mem"), f);
}

TEST_CASE("safetensors: escaped names and \\u escapes in the header are decoded") {
  auto bytes = with_header("{" + entry("a\\u00e9\\n\\\"", "F32", "[1]", "[0,4]") + "}", 4);
  TensorFile f = parse_safetensors(bytes, "t");
  REQUIRE_EQ(f.tensors.size(), 1);
  CHECK_EQ(f.tensors[0].first, "a\xc3\xa9\n\"");
  check_same(parse_safetensors(serialize_safetensors(f), "t"), f);
}

TEST_CASE("safetensors: gaps between tensors are allowed") {
  auto bytes = with_header("{" + entry("a", "F32", "[1]", "[8,12]") + "}", 16);
  TensorFile f = parse_safetensors(bytes, "t");
  REQUIRE_EQ(f.tensors.size(), 1);
  CHECK_EQ(f.tensors[0].second.data.size(), 4);
}

TEST_CASE("safetensors: hostile headers give one exact error each") {
  struct Row {
    const char* what;
    std::vector<uint8_t> bytes;
    std::string error;
  };
  const std::string p = "t.safetensors: invalid safetensors: ";
  const std::string a = entry("a", "F32", "[1]", "[0,4]");
  std::vector<Row> rows = {
      {"empty file", {}, p + "file shorter than the 8-byte header length"},
      {"7 bytes", {1, 0, 0, 0, 0, 0, 0}, p + "file shorter than the 8-byte header length"},
      {"length past EOF", with_length(100, "{}"),
       p + "header length 100 runs past the end of the file"},
      {"length 2^64-1", with_length(~uint64_t{0}, "{}"),
       p + "header length 18446744073709551615 exceeds 100 MB"},
      {"length 100 MB + 1", with_length((uint64_t{100} << 20) + 1, "{}"),
       p + "header length 104857601 exceeds 100 MB"},
      {"truncated JSON", with_header("{\"a\":{\"dtype\":\"F32\""),
       "t.safetensors: header: expected ',' or '}' at offset 19"},
      {"not JSON", with_header("hello"), "t.safetensors: header: expected a value at offset 0"},
      {"trailing garbage", with_header("{} x"),
       "t.safetensors: header: trailing characters after the JSON value at offset 3"},
      {"NUL padding", with_header(std::string("{}\0\0", 4)),
       "t.safetensors: header: trailing characters after the JSON value at offset 2"},
      {"nesting", with_header(std::string(40, '[') + std::string(40, ']')),
       "t.safetensors: header: nesting too deep at offset 33"},
      {"control char", with_header("{\"a\x01\":1}"),
       "t.safetensors: header: control character in string at offset 3"},
      {"bad escape", with_header("{\"\\q\":1}"),
       "t.safetensors: header: unknown escape in string at offset 2"},
      {"short \\u", with_header("{\"\\u12"),
       "t.safetensors: header: short \\u escape at offset 2"},
      {"array header", with_header("[]"), p + "header is not a JSON object"},
      {"metadata not object", with_header("{\"__metadata__\":[]}"),
       p + "__metadata__ is not an object"},
      {"metadata value", with_header("{\"__metadata__\":{\"k\":1}}"),
       p + "metadata value for 'k' is not a string"},
      {"entry not object", with_header("{\"a\":1}"), p + "entry 'a' is not an object"},
      {"missing dtype", with_header("{\"a\":{\"shape\":[],\"data_offsets\":[0,0]}}"),
       p + "tensor 'a' needs dtype, shape and data_offsets"},
      {"shape not array", with_header("{" + entry("a", "F32", "3", "[0,12]") + "}", 12),
       p + "tensor 'a' needs dtype, shape and data_offsets"},
      {"wrong dtype", with_header("{" + entry("a", "F8_E4M3", "[1]", "[0,1]") + "}", 1),
       p + "tensor 'a' has unsupported dtype 'F8_E4M3'"},
      {"lower-case dtype", with_header("{" + entry("a", "f32", "[1]", "[0,4]") + "}", 4),
       p + "tensor 'a' has unsupported dtype 'f32'"},
      {"negative dim", with_header("{" + entry("a", "F32", "[-1]", "[0,4]") + "}", 4),
       p + "tensor 'a' has a shape entry that is not a non-negative integer"},
      {"float dim", with_header("{" + entry("a", "F32", "[1.0]", "[0,4]") + "}", 4),
       p + "tensor 'a' has a shape entry that is not a non-negative integer"},
      {"dim above int64", with_header("{" + entry("a", "F32", "[9223372036854775808]", "[0,0]") +
                                      "}"),
       p + "tensor 'a' has a shape entry that is not a non-negative integer"},
      {"rank 17", with_header("{" + entry("a", "F32", "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]",
                                          "[0,4]") + "}", 4),
       p + "tensor 'a' has rank above 16"},
      {"huge shape", with_header("{" + entry("a", "F32", "[4294967296,4294967296]", "[0,0]") +
                                 "}"),
       p + "tensor 'a' is too large"},
      {"bytes overflow int64", with_header("{" + entry("a", "C128", "[1152921504606846976]",
                                                       "[0,0]") + "}"),
       p + "tensor 'a' is too large"},
      {"offsets not pair", with_header("{" + entry("a", "F32", "[1]", "[0]") + "}", 4),
       p + "tensor 'a' has malformed data_offsets"},
      {"offsets reversed", with_header("{" + entry("a", "F32", "[1]", "[4,0]") + "}", 4),
       p + "tensor 'a' has malformed data_offsets"},
      {"negative offset", with_header("{" + entry("a", "F32", "[1]", "[-4,0]") + "}", 4),
       p + "tensor 'a' has malformed data_offsets"},
      {"float offset", with_header("{" + entry("a", "F32", "[1]", "[0,4.0]") + "}", 4),
       p + "tensor 'a' has malformed data_offsets"},
      {"offset past EOF", with_header("{" + entry("a", "F32", "[1]", "[4,8]") + "}", 4),
       p + "tensor 'a' data runs past the end of the file"},
      {"shape/offset mismatch", with_header("{" + entry("a", "F32", "[2,3]", "[0,20]") + "}", 24),
       p + "tensor 'a' has 20 bytes but f32[2,3] needs 24"},
      {"overlap", with_header("{" + a + "," + entry("b", "F32", "[1]", "[2,6]") + "}", 8),
       p + "tensor data ranges overlap"},
      {"same range", with_header("{" + a + "," + entry("b", "F32", "[1]", "[0,4]") + "}", 4),
       p + "tensor data ranges overlap"},
      {"duplicate name", with_header("{" + a + "," + entry("a", "F32", "[1]", "[4,8]") + "}", 8),
       p + "duplicate tensor 'a'"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.what);
    CHECK_EQ(parse_error(r.bytes), r.error);
  }
}

TEST_CASE("safetensors: read_safetensors names the path in errors") {
  test::TempDir dir;
  std::string path = dir.path("bad.safetensors");
  test::write_text(path, "1234");
  try {
    read_safetensors(path);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK_EQ(std::string(e.what()),
             path + ": invalid safetensors: file shorter than the 8-byte header length");
  }
  try {
    read_safetensors(dir.path("missing.safetensors"));
    FAIL("no error");
  } catch (const Error& e) {
    CHECK_EQ(std::string(e.what()),
             dir.path("missing.safetensors") + ": cannot open: No such file or directory");
  }
}

TEST_CASE("safetensors: serialising a tensor whose bytes do not match its type fails") {
  TensorFile f;
  f.tensors.emplace_back("w", make_tensor(DType::F32, {2}));
  f.tensors[0].second.data.pop_back();
  try {
    serialize_safetensors(f);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK_EQ(std::string(e.what()), "safetensors: tensor 'w' has 7 bytes but f32[2] needs 8");
  }
  auto error_for = [](std::vector<int64_t> shape) {
    TensorFile g;
    HostTensor t;
    t.dtype = DType::C128;
    t.shape = std::move(shape);
    g.tensors.emplace_back("w", t);
    try {
      serialize_safetensors(g);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("<no error>");
  };
  CHECK_EQ(error_for({2, -3}), "safetensors: tensor 'w' has a negative dimension: c128[2,-3]");
  CHECK_EQ(error_for({1 << 30, 1 << 30, 1 << 30, 0}),
           "safetensors: tensor 'w' is too large: c128[1073741824,1073741824,1073741824,0]");
  CHECK_EQ(error_for(std::vector<int64_t>(17, 1)), "safetensors: tensor 'w' has rank above 16");
  CHECK_EQ(error_for({0, 5}), "<no error>");
}

TEST_CASE("safetensors: a failed write leaves the old file intact and no temp file") {
  test::TempDir dir;
  std::string path = dir.path("model.safetensors");
  TensorFile old;
  old.tensors.emplace_back("w", make_tensor(DType::F64, {3}));
  write_safetensors(path, old);
  auto before = test::read_bytes(path);

  std::vector<std::string> expected_entries;
  SUBCASE("serialisation throws") {
    TensorFile bad;
    bad.tensors.emplace_back("w", make_tensor(DType::F32, {2}));
    bad.tensors[0].second.data.resize(3);
    CHECK_THROWS_AS(write_safetensors(path, bad), Error);
    expected_entries = {"model.safetensors"};
  }
  SUBCASE("the rename fails") {
    // A directory squatting on the target path makes the final rename fail after the
    // temp file was fully written.
    std::string blocked = dir.path("blocked");
    test::make_dir(blocked + "/inside");
    TensorFile f;
    f.tensors.emplace_back("w", make_tensor(DType::F32, {2}));
    CHECK_THROWS_AS(write_safetensors(blocked, f), Error);
    CHECK(test::is_dir(blocked + "/inside"));
    expected_entries = {"blocked", "model.safetensors"};
  }
  SUBCASE("the directory does not exist") {
    TensorFile f;
    f.tensors.emplace_back("w", make_tensor(DType::F32, {2}));
    CHECK_THROWS_AS(write_safetensors(dir.path("nowhere/model.safetensors"), f), Error);
    expected_entries = {"model.safetensors"};
  }
  CHECK(test::read_bytes(path) == before);
  check_same(read_safetensors(path), old);
  CHECK_EQ(test::list_dir(dir.root()), expected_entries); // no temp file left behind
}

TEST_CASE("safetensors: many entries are checked in near-linear time and memory") {
  // 50k distinct names: a linear duplicate search per entry would take ~10^9 compares.
  std::string h = "{";
  for (int i = 0; i < 50000; ++i)
    h += (i ? "," : "") + entry("t" + std::to_string(i), "F32", "[0]", "[0,0]");
  TensorFile f = parse_safetensors(with_header(h + "}"), "t");
  CHECK_EQ(f.tensors.size(), 50000);
  // 2000 entries naming the same 1 MB range are refused before any data is copied
  // (copying first would allocate 2 GB).
  h = "{";
  for (int i = 0; i < 2000; ++i)
    h += (i ? "," : "") + entry("t" + std::to_string(i), "I32", "[262144]", "[0,1048576]");
  CHECK_EQ(parse_error(with_header(h + "}", 1 << 20)),
           "t.safetensors: invalid safetensors: tensor data ranges overlap");
}
