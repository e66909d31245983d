// Compiles the precompiled header (net/asio.h) once for the targets that reuse it.
