/* Extended grapheme clusters (UAX #29), as a stream: feed code points one by
 * one and learn before each whether a cluster boundary precedes it.  HF's
 * Precompiled normalizer walks the text cluster by cluster (crate
 * unicode-segmentation); the Unigram tokenizer does the same.
 *
 * Rules GB1 .. GB13 over the Grapheme_Cluster_Break and
 * Extended_Pictographic tables of unicode_tables.c (this UCD's version);
 * GB9c (Indic conjunct breaks, Unicode 15.1) is not applied: it only ever
 * joins clusters of three Indic letters or more (9 bytes and up), which that
 * normalizer handles character by character whatever the cluster. */
#ifndef EMBER_TOKENIZER_GRAPHEME_H
#define EMBER_TOKENIZER_GRAPHEME_H
#include <stdint.h>

/* The property of cp: a UNI_GB_* value, | UNI_GB_EXTPICT when
 * Extended_Pictographic (Hangul syllables computed, LV or LVT). */
unsigned uni_gcb(uint32_t cp);

/* What the rules need to know of the text before the next code point.
 * Plain data: copying it forks the stream. */
typedef struct {
    uint8_t started; /* a code point has been seen */
    uint8_t prev;    /* its UNI_GB_* class (without the Extended_Pictographic bit) */
    uint8_t ri_odd;  /* an odd number of regional indicators ends the text */
    uint8_t emoji;   /* 1: Extended_Pictographic Extend* ends the text; 2: ... ZWJ */
} uni_gb_state;

void uni_gb_init(uni_gb_state *s);
/* Whether a boundary precedes cp (always before the first), then takes cp
 * into the state. */
int uni_gb_next(uni_gb_state *s, uint32_t cp);

#endif
