#include "threadcryptostate.h"

#include <openssl/crypto.h>

void releaseThreadCryptoState()
{
    OPENSSL_thread_stop();
}
