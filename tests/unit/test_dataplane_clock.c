/*
 * The worker's clock: TSC cycles to microseconds must not overflow once a machine has
 * been up for hours (cycles * 10^6 passes 2^64 after about two hours at 2.5 GHz, which
 * once froze every timer of a worker).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dataplane/worker.h"

static void tsc_to_us_is_exact_past_the_64_bit_product(void **state)
{
	const uint64_t hz[] = {1000000000ull, 2500000000ull, 2994000000ull, 3700123456ull};

	(void)state;
	for (size_t k = 0; k < sizeof(hz) / sizeof(hz[0]); k++) {
		/* one hour, one day, one year of uptime, and near the top of 64 bits */
		const uint64_t secs[] = {3600, 86400, 31536000, UINT64_MAX / hz[k] - 1};

		for (size_t s = 0; s < sizeof(secs) / sizeof(secs[0]); s++) {
			uint64_t cycles = secs[s] * hz[k] + hz[k] / 2;
			unsigned __int128 want = (unsigned __int128)cycles * 1000000u / hz[k];

			assert_true(dp_tsc_us(cycles, hz[k]) == (uint64_t)want);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tsc_to_us_is_exact_past_the_64_bit_product),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
