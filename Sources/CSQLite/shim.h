#pragma once
#include <sqlite3.h>

/// sqlite3_db_config is variadic, which Swift cannot call: this fixed-arity wrapper sets an integer option.
static inline int csqlite_db_config_int(sqlite3 *db, int op, int value) {
    int result = 0;
    return sqlite3_db_config(db, op, value, &result);
}
