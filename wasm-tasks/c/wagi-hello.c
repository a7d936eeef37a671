/* A WAGI handler (handler mode, label PACER_WASM_HTTP=wagi): one instance per request. Echoes
 * the request as CGI sees it. Paths: /loop spins forever (the agent stops it: 5xx), /status/N
 * answers with status N, /redirect sends a Location, anything else says hello with the method,
 * path, query, a header and the body length.
 * Build: clang --target=wasm32-wasi -O2 (npm run build:wasm-tasks). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v ? v : "";
}

int main(void) {
  const char *path = env("PATH_INFO");
  if (strcmp(path, "/loop") == 0) {
    volatile unsigned long n = 0;
    for (;;) n++;
  }
  if (strncmp(path, "/status/", 8) == 0) {
    printf("Status: %s\nContent-Type: text/plain\n\nstatus %s\n", path + 8, path + 8);
    return 0;
  }
  if (strcmp(path, "/redirect") == 0) {
    printf("Location: /elsewhere\n\n");
    return 0;
  }
  size_t body = 0;
  char buf[4096];
  size_t r;
  while ((r = fread(buf, 1, sizeof buf, stdin)) > 0) body += r;
  printf("Content-Type: text/plain\nX-Handler: wagi-hello\n\n");
  printf("hello from wagi\nmethod=%s\npath=%s\nquery=%s\nserver=%s:%s\nurl=%s\nagent=%s\n"
         "content_type=%s\ncontent_length=%s\nbody_bytes=%zu\ngreeting=%s\n",
         env("REQUEST_METHOD"), path, env("QUERY_STRING"), env("SERVER_NAME"), env("SERVER_PORT"),
         env("X_FULL_URL"), env("HTTP_USER_AGENT"), env("CONTENT_TYPE"), env("CONTENT_LENGTH"),
         body, env("GREETING"));
  return 0;
}
