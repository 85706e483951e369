// Closing a connection the proxy ends itself, without losing what it last sent.
#pragma once

#include "net.h"

namespace flocker::transport {

// Closing a socket whose peer has sent bytes not yet read makes the kernel answer with a
// RST, and a peer still sending then sees "connection reset" instead of what was sent to it
// last: the rest of a refused request loses its 400, a TLS 1.3 client (which sends its
// request before the server has checked its certificate) loses the alert that says why it
// was refused. So, as Apache's and nginx's lingering close: send FIN, read and discard what
// still arrives, for at most 2 s (and 64 MiB), then close. Runs on the socket's executor.
void lingering_close(Socket socket);

}  // namespace flocker::transport
