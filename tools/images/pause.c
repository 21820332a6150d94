/*
 * The sandbox ("pause") process of the real node's pods: containerd's CRI
 * plugin starts it first in every pod to hold the pod's namespaces. It
 * sleeps until SIGINT or SIGTERM and reaps the zombies it inherits (as the
 * pod's PID 1 when the pod shares its process namespace). Built here with
 * gcc -static by scripts/build-images.sh, since no image may be pulled.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) {
    (void)sig;
    _exit(0);
}

static void on_child(int sig) {
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        puts("titan pause 1");
        return 0;
    }
    struct sigaction stop = {.sa_handler = on_stop};
    struct sigaction child = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP};
    if (sigaction(SIGINT, &stop, NULL) < 0 || sigaction(SIGTERM, &stop, NULL) < 0 ||
        sigaction(SIGCHLD, &child, NULL) < 0) {
        fprintf(stderr, "pause: sigaction: %s\n", strerror(errno));
        return 1;
    }
    for (;;) pause();
}
