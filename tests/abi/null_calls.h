/* SPDX-License-Identifier: MIT */
/* Run one generated NULL call (gen_null_calls.py) in a child process. */
#ifndef HV_TESTS_ABI_NULL_CALLS_H
#define HV_TESTS_ABI_NULL_CALLS_H

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* A crash is the failure this test exists for, so it must not take the
 * other calls down with it: each runs in its own child. */
static inline void null_call_in_child(const char *name, void (*child)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		/* Default actions: cmocka's handlers would report a crash as a
		 * test failure of the child's own copy of the runner. */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		signal(SIGILL, SIG_DFL);
		signal(SIGFPE, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		alarm(10); /* a call that blocks on NULL is a failure too */
		child();
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		fail_msg("waitpid: %s", strerror(errno));
	if (WIFSIGNALED(status))
		fail_msg("%s(NULL...) died of signal %d (%s)", name, WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status))
		fail_msg("%s(NULL...): wrong result (see above)", name);
}

#endif /* HV_TESTS_ABI_NULL_CALLS_H */
