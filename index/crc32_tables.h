/* Slice-by-8 tables of CRC-32 (IEEE), generated: index/crc32_tables.c */
#ifndef EMBER_INDEX_CRC32_TABLES_H
#define EMBER_INDEX_CRC32_TABLES_H
#include <stdint.h>
extern const uint32_t idx_crc32_table[8][256];
#endif
