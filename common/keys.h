/* SPDX-License-Identifier: PostgreSQL */
/*
 * keys.h — CurveZMQ key files.
 *
 * Keys are stored as Z85 text (40 characters for 32 bytes), one key per
 * file, with '#' comment lines allowed:
 *   NAME.key  the secret key, mode 0600
 *   NAME.pub  the public key
 * An authorized-keys file lists public keys, one per line, each optionally
 * followed by whitespace and a free-text label; '#' starts a comment line.
 */
#ifndef HYPERDIST_KEYS_H
#define HYPERDIST_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#define HD_Z85_KEY_LEN 40		/* characters, without the terminating NUL */

typedef struct HdKeyPair
{
	char		public_key[HD_Z85_KEY_LEN + 1];
	char		secret_key[HD_Z85_KEY_LEN + 1];
} HdKeyPair;

/*
 * Each function returns true on success.  On failure it writes a
 * human-readable reason (naming the file) into err, of size errlen.
 */

/* Generates a key pair and writes DIR/NAME.key (0600) and DIR/NAME.pub. */
extern bool hd_keygen(const char *dir, const char *name, bool overwrite,
					  HdKeyPair *out, char *err, size_t errlen);

/* Reads a secret key file and derives the public key. */
extern bool hd_key_load_pair(const char *secret_path, HdKeyPair *out,
							 char *err, size_t errlen);

/* Reads a public key file. */
extern bool hd_key_load_public(const char *path, char out[HD_Z85_KEY_LEN + 1],
							   char *err, size_t errlen);

/* True when s is a valid 40-character Z85 key. */
extern bool hd_key_valid(const char *s);

/* A loaded authorized-keys list. */
typedef struct HdKeyList
{
	int			count;
	char	  (*keys)[HD_Z85_KEY_LEN + 1];
	char	  **labels;			/* "" when the line had none */
} HdKeyList;

extern bool hd_keylist_load(const char *path, HdKeyList *out, char *err, size_t errlen);
/* Index of the key in the list, or -1. */
extern int	hd_keylist_find(const HdKeyList *list, const char *z85);
extern void hd_keylist_free(HdKeyList *list);

#endif							/* HYPERDIST_KEYS_H */
