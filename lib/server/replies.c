/* Default reply texts (RFC 5321 4.2.2, 4.2.3), in our words, and default
 * enhanced status codes (RFC 3463 3).  SPDX-License-Identifier: MIT */
#include "server/replies.h"
#include "server/reply_write.h"

#include "smtpwire/common.h"

#define LIT(s) s, (sizeof(s) - 1)

#define T_214 "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP"
#define T_252 "Cannot VRFY user, but will accept message and attempt delivery"
#define T_354 "Start mail input; end with <CRLF>.<CRLF>"
#define T_502 "Command not implemented"
#define T_MAIL "Sender ok"
#define T_RCPT "Recipient ok"
#define T_END "Message accepted for delivery"

const char *smtpw__replies_text(uint32_t ev, uint32_t code)
{
    switch (code) {
    case 214: return T_214;
    case 252: return T_252;
    case 354: return T_354;
    case 450: return "Mailbox unavailable, try again later";
    case 451: return "Local error in processing";
    case 452: return ev == SMTPW_EV_RCPT ? "Too many recipients" : "Insufficient system storage";
    case 455: return "Server unable to accommodate parameters";
    case 500: return "Command unrecognized";
    case 501: return "Syntax error in parameters or arguments";
    case 502: return T_502;
    case 503: return "Bad sequence of commands";
    case 504: return "Command parameter not implemented";
    case 550: return "Mailbox unavailable";
    case 551: return "User not local";
    case 552: return "Exceeded storage allocation";
    case 553: return "Mailbox name not allowed";
    case 554: return "Transaction failed";
    case 555: return "Parameters not recognized or not implemented";
    default: break;
    }
    switch (code / 100) {
    case 2:
        switch (ev) {
        case SMTPW_EV_MAIL: return T_MAIL;
        case SMTPW_EV_RCPT: return T_RCPT;
        case SMTPW_EV_DATA_END: return T_END;
        default: return "Ok";
        }
    case 4: return "Temporary failure, try again later";
    default: return "Permanent failure";
    }
}

const char *smtpw__replies_enh(uint32_t ev, uint32_t code)
{
    switch (code) {
    case 250:
    case 251:
        return ev == SMTPW_EV_MAIL ? "2.1.0" : ev == SMTPW_EV_RCPT ? "2.1.5" : "2.0.0";
    case 252: return "2.5.2";
    case 421: return "4.3.2";
    case 450: return "4.2.0";
    case 451: return "4.3.0";
    case 452: return ev == SMTPW_EV_RCPT ? "4.5.3" : "4.3.1";
    case 500: return "5.5.2";
    case 501: return "5.5.4";
    case 502:
    case 503: return "5.5.1";
    case 504:
    case 555: return "5.5.4";
    case 550: return ev == SMTPW_EV_RCPT ? "5.1.1" : ev == SMTPW_EV_MAIL ? "5.1.0" : "5.7.1";
    case 551: return "5.1.6";
    case 552: return ev == SMTPW_EV_RCPT ? "5.2.2" : "5.3.4";
    case 553: return ev == SMTPW_EV_MAIL ? "5.1.7" : "5.1.3";
    case 554: return ev == SMTPW_EV_DATA_END ? "5.6.0" : "5.0.0";
    default: break;
    }
    switch (code / 100) {
    case 2: return "2.0.0";
    case 4: return "4.0.0";
    default: return "5.0.0";
    }
}

/* The answers to code 0 with default text and enh, without and with
 * enhanced codes (what the two functions above give), made at compile
 * time. */
#define DLINE(code, enh, text)                                                       \
    {{#code " " text "\r\n", code, sizeof(#code " " text "\r\n") - 1},                 \
     {#code " " enh " " text "\r\n", code, sizeof(#code " " enh " " text "\r\n") - 1}}
const smtpw__reply_line smtpw__replies_lines[SMTPW_EV_HELP + 1][2] = {
    [SMTPW_EV_MAIL] = DLINE(250, "2.1.0", T_MAIL),
    [SMTPW_EV_RCPT] = DLINE(250, "2.1.5", T_RCPT),
    [SMTPW_EV_DATA] = {{"354 " T_354 "\r\n", 354, sizeof("354 " T_354 "\r\n") - 1},
                       {"354 " T_354 "\r\n", 354, sizeof("354 " T_354 "\r\n") - 1}}, /* never on 3xx */
    [SMTPW_EV_DATA_END] = DLINE(250, "2.0.0", T_END),
    [SMTPW_EV_VRFY] = DLINE(252, "2.5.2", T_252),
    [SMTPW_EV_EXPN] = DLINE(502, "5.5.1", T_502),
    [SMTPW_EV_HELP] = DLINE(214, "2.0.0", T_214),
};

/* Rendering of an application's reply (RFC 5321 4.2, 4.1.1.1; RFC 2034). */
int smtpw__replies_render(uint8_t *out, size_t cap, const smtpw__reply_to *to, uint32_t code,
                          const char *enh, size_t enhlen, const char *text, size_t textlen,
                          size_t *w)
{
    int deftext;
    uint32_t ev = to->ev, cls = code / 100;

    if (code == 354 ? ev != SMTPW_EV_DATA
                    : (!smtpw__reply_write_code_ok(code) || cls == 3 ||
                       (cls == 2 && ev == SMTPW_EV_DATA) ||
                       (cls == 2 && ev == SMTPW_EV_HELO && code != 250)))
        return SMTPW_E_INVALID_ARG;
    deftext = text == NULL || textlen == 0;
    if (deftext) {
        text = (cls == 2 && ev == SMTPW_EV_HELO) ? "" : smtpw__replies_text(ev, code);
        textlen = strlen(text);
    } else if (!smtpw__reply_write_text_ok(text, textlen)) {
        return SMTPW_E_INVALID_ARG;
    }
    if (enhlen != 0 && !smtpw__reply_write_enh_ok(enh, enhlen, code))
        return SMTPW_E_INVALID_ARG;
    /* RFC 2034: after EHLO only, never on 3xx or replies to HELO/EHLO. */
    if (to->enh && cls != 3 && ev != SMTPW_EV_HELO) {
        if (enhlen == 0) {
            enh = smtpw__replies_enh(ev, code);
            enhlen = strlen(enh);
        }
    } else {
        enhlen = 0;
    }

    if (ev == SMTPW_EV_HELO && cls == 2) {
        /* 4.1.1.1: "250" SP Domain [SP text], or the EHLO keyword list. */
        *w = smtpw__reply_write_line(out, cap, 250, to->caps != 0, NULL, 0, to->host,
                                     to->hostlen, text, textlen);
        if (*w == 0)
            return SMTPW_E_TOOLONG;
        if (to->caps) {
            size_t c = smtpw__reply_write_caps(out + *w, cap - *w, to->caps, to->max_size);
            if (c == 0)
                return SMTPW_E_TOOLONG;
            *w += c;
        }
        return SMTPW_OK;
    }
    if (code == 421 && deftext) /* 3.8: "421 <domain> ..." */
        *w = smtpw__reply_write_line(out, cap, code, 0, enh, enhlen, to->host, to->hostlen,
                                     LIT("Service not available, closing transmission channel"));
    else
        *w = smtpw__reply_write_line(out, cap, code, 0, enh, enhlen, text, textlen, NULL, 0);
    return *w == 0 ? SMTPW_E_TOOLONG : SMTPW_OK;
}
