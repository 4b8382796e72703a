//! Auth-key exchange, client and server, as states taken by value.
