#include "hemeplm/app/cli.hpp"

int main(int argc, char** argv) {
  return hemeplm::app::run(argc, argv);
}
