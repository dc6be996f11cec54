#include "options.hpp"

#include <fstream>
#include <sstream>

#include "hemeplm/core/error.hpp"

namespace hemeplm::app {
namespace {

po::options_description all_options(const Command& command) {
  po::options_description options(std::string("Options of 'hemeplm ") + command.name() + "'");
  options.add_options()("help,h", "print this help and exit")(
      "config", po::value<std::string>()->value_name("FILE"),
      "read options from an INI file (key = value, keys are the long option names); "
      "command-line values override it");
  command.add_options(options);
  return options;
}

}  // namespace

po::variables_map parse_command_line(const Command& command, const std::vector<std::string>& args,
                                     bool& help) {
  const po::options_description options = all_options(command);
  po::positional_options_description positionals;
  command.add_positionals(positionals);
  const std::string where = std::string("hemeplm ") + command.name();
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(options).positional(positionals).run(), vm);
    help = vm.count("help") > 0;
    if (help) return vm;
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      std::ifstream in(path);
      if (!in) throw InputError(path, "cannot open config file");
      try {
        // Values already stored from the command line take precedence over the file's.
        po::store(po::parse_config_file(in, options, /*allow_unregistered=*/false), vm);
      } catch (const po::error& e) {
        throw InputError(path,
                         std::string(e.what()) + " (keys are the long options of '" + where + " --help')");
      }
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(where + ": " + e.what() + "; see '" + where + " --help'");
  }
  return vm;
}

std::string command_help(const Command& command) {
  std::ostringstream s;
  s << "Usage: hemeplm " << command.name() << ' ' << command.usage() << "\n\n"
    << command.summary() << "\n\n"
    << all_options(command);
  const std::string epilog = command.epilog();
  if (!epilog.empty()) s << '\n' << epilog;
  return s.str();
}

namespace {
template <class T>
void check_range(const char* name, T value, T lo, T hi) {
  if (!(value >= lo && value <= hi)) {
    std::ostringstream s;
    s << "--" << name << " must be between " << lo << " and " << hi << " (got " << value << ")";
    throw UsageError(s.str());
  }
}
}  // namespace

void require_range(const char* name, double value, double lo, double hi) {
  check_range(name, value, lo, hi);
}
void require_range(const char* name, int value, int lo, int hi) {
  check_range(name, value, lo, hi);
}

}  // namespace hemeplm::app
