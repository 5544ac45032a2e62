// file_io.cpp: POSIX file helpers.
#include "runtime/file_io.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "runtime/json.h"

namespace tevo::rt {

std::vector<uint8_t> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw Error(path + ": cannot open: " + std::strerror(errno));
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int e = errno;
      ::close(fd);
      throw Error(path + ": read failed: " + std::strerror(e));
    }
    if (n == 0)
      break;
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

void write_file_atomic(const std::string& path, std::span<const uint8_t> bytes) {
  // Unique per process and per call, so concurrent writers never share a temp file;
  // O_EXCL refuses to follow a planted symlink or reuse a stale file.
  static std::atomic<uint64_t> counter{0};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
                    std::to_string(counter.fetch_add(1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error(path + ": cannot create temp file: " + std::strerror(errno));
  auto fail = [&](const char* what, int e) {
    if (fd >= 0)
      ::close(fd);
    ::unlink(tmp.c_str());
    throw Error(path + ": " + what + ": " + std::strerror(e));
  };
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      fail("write failed", errno);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0)
    fail("flush failed", errno);
  int rc = ::close(fd);
  fd = -1; // closed even when close() reports an error
  if (rc != 0)
    fail("flush failed", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    fail("rename failed", errno);
  // Make the rename itself durable (best effort: the new file is in place either way).
  std::string dir = path.substr(0, path.find_last_of('/') + 1);
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

} // namespace tevo::rt
