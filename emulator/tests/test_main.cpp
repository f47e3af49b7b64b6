// Runs the test case named on the command line (CTest registers each case separately).
#include "harness.h"

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s <case>; cases:", argv[0]);
        for (const TestCase& t : test_cases()) fprintf(stderr, " %s", t.name);
        fprintf(stderr, "\n");
        return 2;
    }
    for (const TestCase& t : test_cases()) {
        if (strcmp(t.name, argv[1]) != 0) continue;
        t.fn();
        if (g_failures) fprintf(stderr, "%s: %d check(s) failed\n", t.name, g_failures);
        return g_failures ? 1 : 0;
    }
    fprintf(stderr, "no test case %s\n", argv[1]);
    return 2;
}
