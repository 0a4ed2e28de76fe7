# Shell helpers shared by the test libraries (tests/daemon/lib.sh, tests/exchange/lib.sh): a
# line a daemon prints, waited for; throwaway users and groups for the tests run as root. The
# including library defines fail and cleanup.
# shellcheck shell=bash

# Waits up to 10 s for FILE to hold a complete line the sed SCRIPT prints, and prints it. A line
# still being written (no newline yet) is not read: a half-written port number is a wrong port.
line_value() {
    local v
    for _ in $(seq 1 200); do
        v=$(head -n "$(wc -l <"$1")" "$1" | sed -n "$2" | head -n 1)
        [ -n "$v" ] && { printf '%s\n' "$v"; return 0; }
        sleep 0.05
    done
    return 1
}

USERS=()
TEST_GROUPS=()
# Removes the users and groups made below, then runs the library's cleanup.
drop_users() {
    local u
    for u in "${USERS[@]}"; do userdel "$u" 2>/dev/null || true; done
    for u in "${TEST_GROUPS[@]}"; do groupdel "$u" 2>/dev/null || true; done
    cleanup
}
# add_users PREFIX NAME…: a system user PREFIX-NAME-PID for each NAME (its own group, no home,
# no login shell), appended to USERS; all are removed on exit.
add_users() {
    local prefix=$1 u name
    shift
    trap drop_users EXIT
    for u in "$@"; do
        name=$prefix-$u-$$
        useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$name" ||
            fail "useradd $name failed"
        USERS+=("$name")
    done
}
# add_group NAME: a system group, removed on exit with the users.
add_group() {
    trap drop_users EXIT
    groupadd --system "$1" || fail "groupadd $1 failed"
    TEST_GROUPS+=("$1")
}
