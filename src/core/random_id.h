/* Unguessable identifiers (Engine.IO sids, Socket.IO socket ids): 20 base64url characters
 * from the kernel's CSPRNG, like engine.io's. */
#ifndef CORE_RANDOM_ID_H
#define CORE_RANDOM_ID_H

#define RANDOM_ID_LEN 20

/* Writes RANDOM_ID_LEN characters and a NUL into out. Aborts if the kernel has no
 * randomness to give (nothing safe can be done without it). */
void random_id(char out[RANDOM_ID_LEN + 1]);

#endif
