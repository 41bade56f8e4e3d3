// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libmlock-testmark.so - stands for a user's own LD_PRELOAD library in the
 * host tests.  It does nothing but exist; tests look for it in
 * /proc/PID/maps and in LD_PRELOAD.
 */
int mlock_testmark(void);

int mlock_testmark(void)
{
	return 42;
}
