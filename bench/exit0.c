/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The smallest program the exec workload can run: a static x86-64 binary
 * without libc whose entry point calls exit(0). Without a dynamic loader
 * or libraries, the only file execve opens is this one, so an exec through
 * a mount measures the mount and not the loader's lookups elsewhere.
 */
void _start(void) __attribute__((noreturn));

void _start(void)
{
	__asm__ volatile("mov $60, %eax\n\t" /* SYS_exit on x86-64 */
			 "xor %edi, %edi\n\t"
			 "syscall");
	__builtin_unreachable();
}
