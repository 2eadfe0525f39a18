#include <criterion/criterion.h>
#include <string.h>

#include "mf_error.h"

static mf_status inner(void) {
    return MF_FAIL(MF_ERR_CONFIG, "bad value %d", 42);
}
static mf_status outer(void) {
    MF_CHECK(inner());
    return MF_OK;
}

Test(error, message_and_traceback_name_the_failure) {
    mf_error_clear();
    cr_assert_eq(outer(), MF_ERR_CONFIG);
    cr_assert_str_eq(mf_error_message(), "bad value 42");
    cr_assert(strstr(mf_error_traceback(), "inner") != NULL);
    cr_assert(strstr(mf_error_traceback(), "outer") != NULL);
    cr_assert(strstr(mf_error_traceback(), "test_error.c") != NULL);
    cr_assert_eq(mf_error_status(), MF_ERR_CONFIG);
    mf_error_clear();
    cr_assert_str_eq(mf_error_message(), "");
}
