/*
 * libFuzzer target: a CSV line file of any octets through ctl_csv_parse; every row it
 * accepts must point inside the text at a NUL-terminated user name (and password).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/csvlines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct ctl_csv csv;
	char *text = malloc(size + 1);

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ctl_csv_parse(&csv, "fuzz.csv", text, size, devnull);
	for (uint32_t k = 0; k < csv.n; k++) {
		if (csv.user[k] >= size || strlen(csv.text + csv.user[k]) > 31)
			abort();
		if (csv.pass[k] != CTL_CSV_NO_PASSWORD && csv.pass[k] >= size)
			abort();
	}
	ctl_csv_free(&csv);
	return 0;
}
