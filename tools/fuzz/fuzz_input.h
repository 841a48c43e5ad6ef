/* SPDX-License-Identifier: PostgreSQL */
/*
 * fuzz_input.h — one fuzz input read from both ends.
 *
 * The harness reads its steps (frames, pumps, ...) from the front; the
 * fake libpq draws its decisions (how a query ends, a lost connection, a
 * notice) from the back.  Mutating a frame then leaves the server's
 * behaviour alone, and the other way round.  When the two ends meet,
 * every further read gives zeros, which the fake takes as "nothing
 * unusual happens".
 */
#ifndef HD_FUZZ_INPUT_H
#define HD_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct FuzzInput
{
	const uint8_t *data;
	size_t		head;			/* next byte read from the front */
	size_t		tail;			/* one past the next byte read from the back */
} FuzzInput;

static inline void
fuzz_input_init(FuzzInput *in, const uint8_t *data, size_t len)
{
	in->data = data;
	in->head = 0;
	in->tail = len;
}

static inline uint8_t
fuzz_front_byte(FuzzInput *in)
{
	return in->head < in->tail ? in->data[in->head++] : 0;
}

/* Up to *len bytes from the front; *len is cut to what was there. */
static inline const uint8_t *
fuzz_front_bytes(FuzzInput *in, size_t *len)
{
	const uint8_t *p = in->data + in->head;

	if (*len > in->tail - in->head)
		*len = in->tail - in->head;
	in->head += *len;
	return p;
}

static inline uint8_t
fuzz_back_byte(FuzzInput *in)
{
	return in->tail > in->head ? in->data[--in->tail] : 0;
}

/* A number below n (at most 65536) from the back; 0 when it is used up. */
static inline unsigned
fuzz_back_below(FuzzInput *in, unsigned n)
{
	unsigned	v = fuzz_back_byte(in);

	if (n > 256)
		v = (v << 8) | fuzz_back_byte(in);
	return n ? v % n : 0;
}

#endif							/* HD_FUZZ_INPUT_H */
