/*
 * bcryptprimitives.dll shim for Wine 8.
 *
 * Go's Windows runtime (Go 1.22 and later) calls ProcessPrng from
 * bcryptprimitives.dll while it starts. Wine 8 ships no such function, so a
 * Go .exe dies in runtime init under Debian bookworm's wine64. This DLL
 * exports ProcessPrng alone and forwards it to advapi32's RtlGenRandom
 * (exported as SystemFunction036), which Wine does implement.
 *
 * It is a test fixture for running cordon's Windows tests under Wine; it
 * is never shipped and never used on a real Windows host.
 */
#include <windows.h>

typedef BOOLEAN (WINAPI *rtl_gen_random_fn)(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    static rtl_gen_random_fn rtl_gen_random;
    if (rtl_gen_random == NULL) {
        HMODULE advapi32 = LoadLibraryA("advapi32.dll");
        if (advapi32 == NULL)
            return FALSE;
        rtl_gen_random = (rtl_gen_random_fn)GetProcAddress(advapi32, "SystemFunction036");
        if (rtl_gen_random == NULL)
            return FALSE;
    }
    /* RtlGenRandom takes a ULONG length; feed larger requests in pieces. */
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!rtl_gen_random(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
