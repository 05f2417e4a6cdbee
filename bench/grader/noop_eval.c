/* The no-op evaluator of the grader benchmark: writes a constant result on file descriptor 3
 * (or, when it is not open, as its last stdout line) and exits 0. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    static const char result[] = "{\"score\": 1}\n";
    if (write(3, result, strlen(result)) < 0)
        fputs(result, stdout);
    return 0;
}
