/* The loop every client test runs on, with a watchdog so that waiting for a condition is
 * always bounded: RUN_UNTIL(cond, ms) runs the loop until cond holds and fails the test
 * (with the condition's text) if it does not within ms. */
#ifndef TESTS_CLIENT_LOOP_UTIL_H
#define TESTS_CLIENT_LOOP_UTIL_H

#include <stdint.h>
#include <uv.h>

#include "test.h"

uv_loop_t *test_loop(void);
/* Arms the watchdog for ms. */
void loop_arm(uint64_t ms);
/* Runs one loop iteration; returns 1 once the watchdog has fired. */
int loop_step(void);
void loop_disarm(void);
/* Runs the loop for ms, whatever happens. */
void loop_run_for(uint64_t ms);
/* Closes the watchdog, lets every handle finish closing and checks that none is left. */
void loop_finish(void);

#define RUN_UNTIL(cond, ms)                                                                        \
    do {                                                                                           \
        loop_arm(ms);                                                                              \
        while (!(cond)) {                                                                          \
            if (loop_step())                                                                       \
                test_fail(__FILE__, __LINE__, "timed out after %d ms waiting for: %s", (int)(ms),  \
                          #cond);                                                                  \
        }                                                                                          \
        loop_disarm();                                                                             \
    } while (0)

#endif
