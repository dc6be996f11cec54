// The one exception hierarchy of hemeplm. Every message is a single user-facing line that names the
// file, the record (line number or record id) and the problem; the program prints it and exits.
//
// Ladder (as in GROMACS): static_assert -> std::optional for expected absence -> assert() for internal
// invariants on hot paths -> throw one of these for anything a user can cause.
#pragma once

#include <stdexcept>
#include <string>

namespace hemeplm {

/// Base of all hemeplm errors. exit_status() is what the program returns after printing what().
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, int exit_status = 1);
  int exit_status() const noexcept { return exit_status_; }

 private:
  int exit_status_;
};

/// A problem with an input file: missing, unreadable, empty, garbled or chemically impossible.
/// what() reads "<file>: <record>: <problem>", e.g. "x.pdb: line 12: coordinate 'abc' is not a number".
/// Exit status 2.
class InputError : public Error {
 public:
  InputError(const std::string& file, const std::string& record, const std::string& problem);
  /// Without a record (the whole file is the problem, e.g. it is empty or missing).
  InputError(const std::string& file, const std::string& problem);
  const std::string& file() const noexcept { return file_; }

 private:
  std::string file_;
};

/// A bad option or configuration value: out of range, inconsistent, unknown key. Exit status 2.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(message, 2) {}
};

/// "line N" with N 1-based, for InputError records.
std::string line_record(long line_number);

/// Replaces newlines and tabs by spaces so that a message stays on one line.
std::string one_line(std::string text);

}  // namespace hemeplm
