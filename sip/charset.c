/*
 * The table behind charset.h, built once at start-up from the ABNF's own lists so that a
 * reader can check each class against RFC 3261 §25.1 by eye.
 */
#include "sip/charset.h"

#include <string.h>

uint16_t sip_charset[256];

static void sip__mark(const char *chars, uint16_t cls)
{
	for (; *chars; chars++)
		sip_charset[(unsigned char)*chars] |= cls;
}

__attribute__((constructor)) static void sip__charset_init(void)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	static const char digit[] = "0123456789";
	static const uint16_t alnum_cls =
		SIP_CS_TOKEN | SIP_CS_UNRESERVED | SIP_CS_SCHEME | SIP_CS_WORD | SIP_CS_HOST;

	memset(sip_charset, 0, sizeof(sip_charset));
	sip__mark(alpha, SIP_CS_ALPHA | alnum_cls);
	sip__mark(digit, SIP_CS_DIGIT | SIP_CS_HEX | alnum_cls);
	sip__mark("abcdefABCDEF", SIP_CS_HEX);
	sip__mark("-.!%*_+`'~", SIP_CS_TOKEN | SIP_CS_WORD);
	sip__mark("-_.!~*'()", SIP_CS_UNRESERVED);
	sip__mark("&=+$,;?/", SIP_CS_USER);
	sip__mark("&=+$,", SIP_CS_PASSWORD);
	sip__mark("[]/:&+$", SIP_CS_PARAM);
	sip__mark("[]/?:+$", SIP_CS_HNV);
	sip__mark("+-.", SIP_CS_SCHEME);
	sip__mark("()<>:\\\"/[]?{}", SIP_CS_WORD);
	sip__mark(" \t\r\n", SIP_CS_LWS);
	sip__mark("-.", SIP_CS_HOST);
	for (int i = 0; i < 256; i++) {
		if (sip_charset[i] & SIP_CS_TOKEN)
			sip_charset[i] |= SIP_CS_PVALUE;
	}
	sip__mark(":[]", SIP_CS_PVALUE);
}
