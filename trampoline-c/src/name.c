/*
 * name.c - the one rule for names in map lines: control characters are
 * replaced by '?', so a name can never split or cut its line.
 *
 * "Control character" means exactly what Rust's char::is_control means, so
 * the C and Rust implementations write identical lines: the C0 controls
 * U+0000..U+001F, DEL U+007F, and the C1 controls U+0080..U+009F. In UTF-8
 * the C1 controls are the two-byte sequences C2 80 .. C2 9F; each becomes a
 * single '?', as one char does in Rust. Other bytes pass through unchanged.
 */
#include "internal.h"

size_t perf_tramp_sanitize_name(const char *name, size_t len, char *out)
{
    const unsigned char *in = (const unsigned char *)name;
    size_t written = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char byte = in[i];
        if (byte < 0x20 || byte == 0x7f) {
            out[written++] = '?';
        } else if (byte == 0xc2 && i + 1 < len && in[i + 1] >= 0x80 && in[i + 1] <= 0x9f) {
            out[written++] = '?';
            i++; /* the continuation byte belongs to the replaced character */
        } else {
            out[written++] = (char)byte;
        }
    }
    return written;
}
