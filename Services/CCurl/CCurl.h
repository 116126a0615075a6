// Typed wrappers around libcurl for Swift.
//
// `curl_easy_setopt` and `curl_easy_getinfo` are C variadic functions, which Swift cannot call. Each
// wrapper below fixes the argument type of one family of options, so the compiler checks that a long
// option gets a long and a string option gets a string, instead of trusting a `...`.
#ifndef CITYSCAPE_CCURL_H
#define CITYSCAPE_CCURL_H

#include <curl/curl.h>

/// The signature libcurl calls with each chunk of the response body.
typedef size_t (*ccurl_write_callback)(char *data, size_t size, size_t count, void *userdata);

/// `curl_global_init(CURL_GLOBAL_DEFAULT)`; the macro is not importable into Swift.
static inline CURLcode ccurl_global_init_default(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}

/// Options whose argument is a `long` (timeouts, flags such as `CURLOPT_NOSIGNAL`).
static inline CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

/// Options whose argument is a NUL-terminated string; libcurl copies it (since 7.17).
static inline CURLcode ccurl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

/// `CURLOPT_HTTPHEADER` and other list options; the list must outlive the transfer.
static inline CURLcode ccurl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *list) {
    return curl_easy_setopt(handle, option, list);
}

/// `CURLOPT_WRITEDATA` and other opaque pointers handed back to callbacks.
static inline CURLcode ccurl_setopt_pointer(CURL *handle, CURLoption option, void *pointer) {
    return curl_easy_setopt(handle, option, pointer);
}

/// `CURLOPT_WRITEFUNCTION`.
static inline CURLcode ccurl_setopt_write_function(CURL *handle, ccurl_write_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

/// Informations whose value is a `long` (`CURLINFO_RESPONSE_CODE`).
static inline CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
