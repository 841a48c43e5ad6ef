/* SPDX-License-Identifier: PostgreSQL */
/*
 * keys.c — CurveZMQ key files (Z85 text) and authorized-keys lists.
 *
 * Secret keys are written with mode 0600 through a temporary file and
 * rename(), so a crash never leaves a half-written key, and a key file that
 * others can read is refused on load (as libpq refuses a readable passfile).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "keys.h"

#define MAX_LINE 1024

static bool
fail(char *err, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	if (err != NULL && errlen > 0)
	{
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return false;
}

bool
hd_key_valid(const char *s)
{
	uint8_t		raw[32];

	if (s == NULL || strlen(s) != HD_Z85_KEY_LEN)
		return false;
	return zmq_z85_decode(raw, s) != NULL;
}

/* Strips leading and trailing white space in place. */
static char *
trim(char *s)
{
	char	   *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == '\n' || end[-1] == '\r' ||
					   end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

/* Reads the single key line of a key file (comments and blanks skipped). */
static bool
read_key_file(const char *path, bool secret, char out[HD_Z85_KEY_LEN + 1],
			  char *err, size_t errlen)
{
	FILE	   *f;
	char		line[MAX_LINE];
	struct stat st;
	bool		found = false;

	f = fopen(path, "r");
	if (f == NULL)
		return fail(err, errlen, "could not open key file \"%s\": %s",
					path, strerror(errno));
	if (secret && fstat(fileno(f), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
	{
		fclose(f);
		return fail(err, errlen,
					"secret key file \"%s\" has group or world access; it must be mode 0600",
					path);
	}
	while (!found && fgets(line, sizeof(line), f) != NULL)
	{
		char	   *s = trim(line);

		if (*s == '\0' || *s == '#')
			continue;
		if (!hd_key_valid(s))
		{
			fclose(f);
			return fail(err, errlen, "key file \"%s\" does not hold a valid Z85 key", path);
		}
		memcpy(out, s, HD_Z85_KEY_LEN + 1);
		found = true;
	}
	fclose(f);
	if (!found)
		return fail(err, errlen, "key file \"%s\" holds no key", path);
	return true;
}

bool
hd_key_load_public(const char *path, char out[HD_Z85_KEY_LEN + 1],
				   char *err, size_t errlen)
{
	return read_key_file(path, false, out, err, errlen);
}

bool
hd_key_load_pair(const char *secret_path, HdKeyPair *out, char *err, size_t errlen)
{
	if (!read_key_file(secret_path, true, out->secret_key, err, errlen))
		return false;
	if (zmq_curve_public(out->public_key, out->secret_key) != 0)
		return fail(err, errlen, "could not derive the public key from \"%s\"",
					secret_path);
	return true;
}

/* Writes content to path atomically with the given mode. */
static bool
write_file(const char *path, const char *content, mode_t mode, bool overwrite,
		   char *err, size_t errlen)
{
	char		tmp[4096];
	int			fd;
	size_t		len = strlen(content);

	if (!overwrite && access(path, F_OK) == 0)
		return fail(err, errlen, "key file \"%s\" already exists", path);
	if ((size_t) snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int) getpid()) >= sizeof(tmp))
		return fail(err, errlen, "key file path \"%s\" is too long", path);

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return fail(err, errlen, "could not create \"%s\": %s", tmp, strerror(errno));
	if (fchmod(fd, mode) != 0 || write(fd, content, len) != (ssize_t) len ||
		fsync(fd) != 0)
	{
		int			save = errno;

		close(fd);
		unlink(tmp);
		return fail(err, errlen, "could not write \"%s\": %s", tmp, strerror(save));
	}
	close(fd);
	if (rename(tmp, path) != 0)
	{
		int			save = errno;

		unlink(tmp);
		return fail(err, errlen, "could not rename \"%s\" to \"%s\": %s",
					tmp, path, strerror(save));
	}
	return true;
}

bool
hd_keygen(const char *dir, const char *name, bool overwrite, HdKeyPair *out,
		  char *err, size_t errlen)
{
	char		path[4096];
	char		content[256];
	HdKeyPair	pair;

	if (zmq_curve_keypair(pair.public_key, pair.secret_key) != 0)
		return fail(err, errlen, "could not generate a CurveZMQ key pair: %s",
					zmq_strerror(zmq_errno()));
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return fail(err, errlen, "could not create directory \"%s\": %s",
					dir, strerror(errno));

	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	snprintf(content, sizeof(content),
			 "# hyperdist CurveZMQ secret key \"%s\"; keep private\n%s\n",
			 name, pair.secret_key);
	if (!write_file(path, content, 0600, overwrite, err, errlen))
		return false;

	snprintf(path, sizeof(path), "%s/%s.pub", dir, name);
	snprintf(content, sizeof(content),
			 "# hyperdist CurveZMQ public key \"%s\"\n%s\n",
			 name, pair.public_key);
	if (!write_file(path, content, 0644, overwrite, err, errlen))
		return false;

	if (out != NULL)
		*out = pair;
	return true;
}

static bool
keylist_add(HdKeyList *list, const char *key, const char *label)
{
	char	  (*keys)[HD_Z85_KEY_LEN + 1];
	char	  **labels;
	char	   *copy;

	keys = realloc(list->keys, (list->count + 1) * sizeof(*keys));
	if (keys == NULL)
		return false;
	list->keys = keys;
	labels = realloc(list->labels, (list->count + 1) * sizeof(*labels));
	if (labels == NULL)
		return false;
	list->labels = labels;
	copy = strdup(label);
	if (copy == NULL)
		return false;
	memcpy(list->keys[list->count], key, HD_Z85_KEY_LEN + 1);
	list->labels[list->count] = copy;
	list->count++;
	return true;
}

bool
hd_keylist_load(const char *path, HdKeyList *out, char *err, size_t errlen)
{
	FILE	   *f;
	char		line[MAX_LINE];
	int			lineno = 0;
	HdKeyList	list = {0, NULL, NULL};

	f = fopen(path, "r");
	if (f == NULL)
		return fail(err, errlen, "could not open authorized keys file \"%s\": %s",
					path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char	   *s = trim(line);
		char	   *label = s + HD_Z85_KEY_LEN;

		lineno++;
		if (*s == '\0' || *s == '#')
			continue;
		if (strlen(s) < HD_Z85_KEY_LEN ||
			(*label != '\0' && *label != ' ' && *label != '\t'))
			goto bad_line;
		if (*label != '\0')
			*label++ = '\0';
		if (!hd_key_valid(s))
			goto bad_line;
		if (!keylist_add(&list, s, trim(label)))
		{
			fclose(f);
			hd_keylist_free(&list);
			return fail(err, errlen, "out of memory reading \"%s\"", path);
		}
	}
	fclose(f);
	*out = list;
	return true;

bad_line:
	fclose(f);
	hd_keylist_free(&list);
	return fail(err, errlen, "authorized keys file \"%s\", line %d: not a Z85 public key",
				path, lineno);
}

int
hd_keylist_find(const HdKeyList *list, const char *z85)
{
	for (int i = 0; i < list->count; i++)
	{
		if (strcmp(list->keys[i], z85) == 0)
			return i;
	}
	return -1;
}

void
hd_keylist_free(HdKeyList *list)
{
	for (int i = 0; i < list->count; i++)
		free(list->labels[i]);
	free(list->labels);
	free(list->keys);
	list->count = 0;
	list->keys = NULL;
	list->labels = NULL;
}
