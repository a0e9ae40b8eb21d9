// What every vdevadm sub-command says about an option getopt_long refused.
#include <getopt.h>

#include <cstdio>

#include "vdevadm/commands.h"

namespace vdev {

int ReportBadOption(const char* command, int c, char** argv) {
  // optind has moved past the option; optopt names a short one (0 for a long one).
  const char* word = optind > 0 ? argv[optind - 1] : "?";
  if (c == ':') {
    if (optopt != 0 && optopt != ':')
      fprintf(stderr, "vdevadm %s: option '-%c' needs an argument\n", command, optopt);
    else
      fprintf(stderr, "vdevadm %s: option '%s' needs an argument\n", command, word);
  } else if (optopt != 0) {
    fprintf(stderr, "vdevadm %s: unknown option '-%c'\n", command, optopt);
  } else {
    fprintf(stderr, "vdevadm %s: unknown option '%s'\n", command, word);
  }
  fprintf(stderr, "Try 'vdevadm %s --help'.\n", command);
  return 1;
}

}  // namespace vdev
