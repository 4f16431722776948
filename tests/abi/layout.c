/*
 * Layout pins: the size of every public struct in the headers of
 * include/smtpwire/ and the offset and size of each of its fields, as built
 * for LP64 (x86-64; the same numbers hold on other LP64 ABIs such as
 * aarch64).  Any change fails
 * the test 'abi_layout', so a layout never changes by accident: bindings
 * and appliances built against 1.0 read these structs by offset.
 *
 * THIS IS THE ONE FILE TO UPDATE when a struct changes on purpose (the 1.0
 * API redesign is under way): run
 *     build/tests/abi/abi_layout --print
 * and paste its output over the PINS table below (between the markers),
 * then regenerate the ABI baselines (tests/abi/update-baseline.sh).
 * Growing a struct is only compatible at its end and only for structs with
 * a version field; anything else needs a soname bump.
 *
 * Other data models (ILP32, LLP64) skip the test (exit 77) rather than
 * carry a second table nobody checks.  The test also fails when a header
 * declares a struct that has no pin (argv[1]: the include/smtpwire dir).
 */
#include <smtpwire/smtpwire.h>
#ifdef SMTPW_LAYOUT_POSIX
#include <smtpwire/posix.h>
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct pin {
    const char *type;  /* struct typedef name */
    const char *field; /* NULL: the row of the struct itself */
    size_t off, size;  /* as built */
    size_t want_off, want_size;
} pin;

#define STRUCT(T, size) {#T, NULL, 0, sizeof(T), 0, size},
#define FIELD(T, f, off, size) {#T, #f, offsetof(T, f), sizeof(((T *)0)->f), off, size},

static const pin pins[] = {
/* ---- PINS: begin (paste `abi_layout --print` output here) ---- */
STRUCT(smtpw_span, 16)
FIELD(smtpw_span, ptr, 0, 8)
FIELD(smtpw_span, len, 8, 8)
STRUCT(smtpw_path, 104)
FIELD(smtpw_path, raw, 0, 16)
FIELD(smtpw_path, mailbox, 16, 16)
FIELD(smtpw_path, local, 32, 16)
FIELD(smtpw_path, domain, 48, 16)
FIELD(smtpw_path, route, 64, 16)
FIELD(smtpw_path, literal, 80, 16)
FIELD(smtpw_path, flags, 96, 4)
FIELD(smtpw_path, literal_kind, 100, 4)
STRUCT(smtpw_server_config, 56)
FIELD(smtpw_server_config, version, 0, 4)
FIELD(smtpw_server_config, flags, 4, 4)
FIELD(smtpw_server_config, hostname, 8, 8)
FIELD(smtpw_server_config, hostname_len, 16, 8)
FIELD(smtpw_server_config, max_message_size, 24, 8)
FIELD(smtpw_server_config, max_recipients, 32, 4)
FIELD(smtpw_server_config, max_command_line, 36, 4)
FIELD(smtpw_server_config, max_text_line, 40, 4)
FIELD(smtpw_server_config, max_errors, 44, 4)
FIELD(smtpw_server_config, bare_command, 48, 4)
FIELD(smtpw_server_config, bare_body, 52, 4)
STRUCT(smtpw_event, 208)
FIELD(smtpw_event, type, 0, 4)
FIELD(smtpw_event, cmd, 4, 4)
FIELD(smtpw_event, code, 8, 4)
FIELD(smtpw_event, flags, 12, 4)
FIELD(smtpw_event, arg, 16, 16)
FIELD(smtpw_event, params, 32, 16)
FIELD(smtpw_event, size, 48, 8)
FIELD(smtpw_event, path, 56, 104)
FIELD(smtpw_event, line, 160, 16)
FIELD(smtpw_event, keyword, 176, 16)
FIELD(smtpw_event, index, 192, 4)
FIELD(smtpw_event, enh_class, 196, 4)
FIELD(smtpw_event, enh_subject, 200, 4)
FIELD(smtpw_event, enh_detail, 204, 4)
STRUCT(smtpw_client_config, 16)
FIELD(smtpw_client_config, version, 0, 4)
FIELD(smtpw_client_config, flags, 4, 4)
FIELD(smtpw_client_config, max_reply_line, 8, 4)
FIELD(smtpw_client_config, max_reply_lines, 12, 4)
#ifdef SMTPW_LAYOUT_POSIX
STRUCT(smtpw_posix_io, 48)
FIELD(smtpw_posix_io, version, 0, 4)
FIELD(smtpw_posix_io, read, 8, 8)
FIELD(smtpw_posix_io, write, 16, 8)
FIELD(smtpw_posix_io, starttls, 24, 8)
FIELD(smtpw_posix_io, pending, 32, 8)
FIELD(smtpw_posix_io, close, 40, 8)
STRUCT(smtpw_posix_shared_config, 48)
FIELD(smtpw_posix_shared_config, version, 0, 4)
FIELD(smtpw_posix_shared_config, flags, 4, 4)
FIELD(smtpw_posix_shared_config, scratch, 8, 8)
FIELD(smtpw_posix_shared_config, scratch_len, 16, 8)
FIELD(smtpw_posix_shared_config, pool, 24, 8)
FIELD(smtpw_posix_shared_config, pool_len, 32, 8)
FIELD(smtpw_posix_shared_config, slot_size, 40, 4)
FIELD(smtpw_posix_shared_config, timeout_ms, 44, 4)
STRUCT(smtpw_posix_reply, 520)
FIELD(smtpw_posix_reply, code, 0, 4)
FIELD(smtpw_posix_reply, cmd, 4, 4)
FIELD(smtpw_posix_reply, text, 8, 512)
STRUCT(smtpw_posix_send_config, 136)
FIELD(smtpw_posix_send_config, version, 0, 4)
FIELD(smtpw_posix_send_config, tls, 4, 4)
FIELD(smtpw_posix_send_config, flags, 8, 4)
FIELD(smtpw_posix_send_config, timeout_ms, 12, 4)
FIELD(smtpw_posix_send_config, connect_timeout_ms, 16, 4)
FIELD(smtpw_posix_send_config, rcpt_policy, 20, 4)
FIELD(smtpw_posix_send_config, helo, 24, 16)
FIELD(smtpw_posix_send_config, from, 40, 16)
FIELD(smtpw_posix_send_config, rcpt, 56, 8)
FIELD(smtpw_posix_send_config, nrcpt, 64, 8)
FIELD(smtpw_posix_send_config, rcpt_replies, 72, 8)
FIELD(smtpw_posix_send_config, rcpt_status, 80, 8)
FIELD(smtpw_posix_send_config, body, 88, 8)
FIELD(smtpw_posix_send_config, bodylen, 96, 8)
FIELD(smtpw_posix_send_config, io, 104, 8)
FIELD(smtpw_posix_send_config, io_ctx, 112, 8)
FIELD(smtpw_posix_send_config, trace, 120, 8)
FIELD(smtpw_posix_send_config, trace_arg, 128, 8)
STRUCT(smtpw_posix_send_result, 548)
FIELD(smtpw_posix_send_result, err, 0, 4)
FIELD(smtpw_posix_send_result, delivered, 4, 4)
FIELD(smtpw_posix_send_result, stage, 8, 4)
FIELD(smtpw_posix_send_result, accepted, 12, 4)
FIELD(smtpw_posix_send_result, reply, 16, 520)
FIELD(smtpw_posix_send_result, transactions, 536, 4)
FIELD(smtpw_posix_send_result, delivered_rcpts, 540, 4)
FIELD(smtpw_posix_send_result, os_error, 544, 4)
STRUCT(smtpw_posix_mx, 260)
FIELD(smtpw_posix_mx, pref, 0, 4)
FIELD(smtpw_posix_mx, host, 4, 256)
#endif
/* ---- PINS: end ---- */
};

#define NPINS (sizeof pins / sizeof pins[0])

/* The output of --print: the table as it should read for this build. */
static void print_table(void)
{
    size_t i;
    int posix = 0;

    for (i = 0; i < NPINS; i++) {
        const pin *p = &pins[i];
        int is_posix = strncmp(p->type, "smtpw_posix_", 12) == 0;
        if (is_posix && !posix)
            printf("#ifdef SMTPW_LAYOUT_POSIX\n");
        posix = is_posix;
        if (p->field == NULL)
            printf("STRUCT(%s, %zu)\n", p->type, p->size);
        else
            printf("FIELD(%s, %s, %zu, %zu)\n", p->type, p->field, p->off, p->size);
    }
    if (posix)
        printf("#endif\n");
}

static int has_struct_pin(const char *name)
{
    size_t i;

    for (i = 0; i < NPINS; i++)
        if (pins[i].field == NULL && strcmp(pins[i].type, name) == 0)
            return 1;
    return 0;
}

/* Every "typedef struct NAME {" in a public header must have a STRUCT pin
 * (opaque handles, "typedef struct NAME NAME;", have no layout to pin). */
static int check_headers(const char *dir)
{
    static const char *const headers[] = {"common.h", "syntax.h", "server.h", "client.h",
#ifdef SMTPW_LAYOUT_POSIX
                                          "posix.h",
#endif
                                          "version.h"};
    static const char key[] = "typedef struct ";
    char path[4096], line[1024], name[256];
    size_t h;
    int bad = 0, seen = 0;

    for (h = 0; h < sizeof headers / sizeof headers[0]; h++) {
        FILE *f;
        snprintf(path, sizeof path, "%s/%s", dir, headers[h]);
        f = fopen(path, "r");
        if (f == NULL) {
            printf("cannot open %s\n", path);
            return 1;
        }
        while (fgets(line, sizeof line, f) != NULL) {
            const char *p = strstr(line, key);
            size_t n = 0;
            if (p == NULL)
                continue;
            p += sizeof key - 1;
            while (n + 1 < sizeof name && (p[n] == '_' || (p[n] >= 'a' && p[n] <= 'z') ||
                                           (p[n] >= 'A' && p[n] <= 'Z') ||
                                           (p[n] >= '0' && p[n] <= '9'))) {
                name[n] = p[n];
                n++;
            }
            name[n] = '\0';
            while (p[n] == ' ')
                n++;
            if (p[n] != '{')
                continue; /* opaque */
            seen++;
            if (!has_struct_pin(name)) {
                printf("%s: struct %s has no layout pin in tests/abi/layout.c\n", headers[h],
                       name);
                bad = 1;
            }
        }
        fclose(f);
    }
    if (seen == 0) {
        printf("no public struct found under %s\n", dir);
        return 1;
    }
    return bad;
}

int main(int argc, char **argv)
{
    size_t i, bad = 0;

    if (argc > 1 && strcmp(argv[1], "--print") == 0) {
        print_table();
        return 0;
    }
    /* LP64 with 8-byte aligned 64-bit integers: what the pins were made on. */
    {
        struct probe {
            char c;
            uint64_t u;
        };
        if (sizeof(void *) != 8 || sizeof(long) != 8 || sizeof(size_t) != 8 ||
            offsetof(struct probe, u) != 8) {
            printf("layout pins are for LP64; this data model has %zu-byte pointers, "
                   "%zu-byte longs: skipped\n",
                   sizeof(void *), sizeof(long));
            return 77;
        }
    }
    for (i = 0; i < NPINS; i++) {
        const pin *p = &pins[i];
        if (p->off == p->want_off && p->size == p->want_size)
            continue;
        bad++;
        if (p->field == NULL)
            printf("sizeof(%s) is %zu, pinned %zu\n", p->type, p->size, p->want_size);
        else
            printf("%s.%s at offset %zu size %zu, pinned offset %zu size %zu\n", p->type,
                   p->field, p->off, p->size, p->want_off, p->want_size);
    }
    /* No padding hole inside a struct or at its end: the fields' sizes add
     * up to the struct's (uint32_t fields grouped before the 8-byte ones).
     * smtpw_posix_io keeps its hole: `version` comes first in every struct
     * the library reads, and the rest are pointers. */
    for (i = 0; i < NPINS; i++) {
        size_t j, sum = 0;
        if (pins[i].field != NULL || strcmp(pins[i].type, "smtpw_posix_io") == 0)
            continue;
        for (j = i + 1; j < NPINS && pins[j].field != NULL; j++)
            sum += pins[j].size;
        if (sum != pins[i].size) {
            printf("%s has %zu bytes of padding: group the uint32_t fields\n", pins[i].type,
                   pins[i].size - sum);
            bad++;
        }
    }
    if (argc > 1 && check_headers(argv[1]) != 0)
        bad++;
    if (bad != 0) {
        printf("public struct layout changed: if on purpose, update tests/abi/layout.c "
               "(see its top) and the ABI baselines\n");
        return 1;
    }
    printf("%zu layout pins hold\n", NPINS);
    return 0;
}
