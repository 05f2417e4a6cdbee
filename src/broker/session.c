/* The session checks every participant call makes, whichever protocol file serves it: the
 * token's signature and expiry (at once), then whether its session still stands (the
 * registry's answer), each refusal answered in the same words. */
#include "broker/broker.h"
#include "broker/reply.h"

int session_token_check(const struct broker *b, struct sio_socket *sock, long long ack_id,
                        json_t *args, struct token_claims *claims)
{
    const char *token = args ? reply_string(args, "session_token", TOKEN_MAX_LEN) : NULL;
    if (token == NULL) {
        reply_error(sock, ack_id, "NO_SESSION",
                    "This call needs the session_token that authenticate gave you.", NULL);
        return -1;
    }
    enum token_error e = token_verify(b->secret, token, broker_now(), claims);
    if (e != TOKEN_OK) {
        reply_error(sock, ack_id, e == TOKEN_EXPIRED ? "SESSION_EXPIRED" : "BAD_SESSION",
                    token_error_message(e), NULL);
        return -1;
    }
    return 0;
}

int session_stands(struct sio_socket *sock, long long ack_id, int result)
{
    if (sock != NULL && result == 0)
        reply_error(sock, ack_id, "SESSION_REVOKED",
                    "This session ended because your API key was changed or revoked. "
                    "Authenticate again with your current API key.",
                    NULL);
    else if (sock != NULL && result < 0)
        reply_error(sock, ack_id, "REGISTRY_UNAVAILABLE",
                    "The broker could not check your session just now. Try again in a minute.",
                    NULL);
    return sock != NULL && result == 1;
}
