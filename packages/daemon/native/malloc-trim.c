// A Node-API addon with one function, trim(): glibc's malloc_trim(0), which
// hands every whole free page inside malloc's heap back to the kernel. glibc
// gives back only the free top of its heap on free(); pages freed in the
// middle (a burst's buffers, V8's compiler zones) stay resident until the
// process calls this, and Node has no way to call it.
#include <malloc.h>
#include <node_api.h>

static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value released;
  if (napi_get_boolean(env, malloc_trim(0) == 1, &released) != napi_ok) return NULL;
  return released;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != napi_ok) return NULL;
  return exports;
}
