#include "hemeplm/core/error.hpp"

#include <algorithm>

namespace hemeplm {

std::string one_line(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

Error::Error(const std::string& message, int exit_status)
    : std::runtime_error(one_line(message)), exit_status_(exit_status) {}

InputError::InputError(const std::string& file, const std::string& record, const std::string& problem)
    : Error(file + ": " + record + ": " + problem, 2), file_(file) {}

InputError::InputError(const std::string& file, const std::string& problem)
    : Error(file + ": " + problem, 2), file_(file) {}

std::string line_record(long line_number) {
  return "line " + std::to_string(line_number);
}

}  // namespace hemeplm
