/* SPDX-License-Identifier: MIT */
/*
 * A small AML byte-code writer (ACPI 6.x, chapter 20 "ACPI Machine Language
 * Specification" and 6.4 "Resource Data Types"), architecture-neutral.
 *
 * The writer appends to a growable buffer.  Every call may fail (allocation,
 * a bad name, misuse such as a descriptor outside a resource template); the
 * first failure is latched in the writer, later calls do nothing, and
 * hv_aml_take() returns it.  Callers therefore emit a whole table without
 * checking each call, and check once at the end.
 *
 * Objects with a PkgLength (Scope, Device, Method, Package, Buffer) are
 * opened with *_begin() and closed with hv_aml_end(): the PkgLength (and a
 * Buffer's size) depends on what is inside, so it is inserted when the
 * object closes.
 *
 *	hv_aml_init(&a);
 *	hv_aml_scope_begin(&a, "\\_SB_");
 *	hv_aml_device_begin(&a, "COM1");
 *	hv_aml_name_eisaid(&a, "_HID", "PNP0501");
 *	hv_aml_name(&a, "_CRS");
 *	hv_aml_restemplate_begin(&a);
 *	hv_aml_res_io(&a, 0x3f8, 0x3f8, 1, 8);
 *	hv_aml_end(&a);		(the end tag and its checksum come here)
 *	hv_aml_end(&a);		(device)
 *	hv_aml_end(&a);		(scope)
 *	ret = hv_aml_take(&a, &bytes, &len);
 */
#ifndef HV_ACPI_AML_H
#define HV_ACPI_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deepest nesting of open objects. */
#define HV_AML_MAX_DEPTH 16
/* Default cap on the bytes one writer produces: the largest PkgLength. */
#define HV_AML_DEFAULT_LIMIT ((size_t)0x0fffffff)
/* Largest value a PkgLength can encode (28 bits). */
#define HV_AML_PKGLEN_MAX 0x0fffffffu

struct hv_aml_open {
	size_t pos;   /* where the PkgLength goes: the first byte after the opcode */
	uint8_t kind; /* enum in aml.c */
};

struct hv_aml {
	uint8_t *buf;
	size_t len;
	size_t cap;
	size_t limit;   /* most bytes allowed (tests lower it); exceeding it: -E2BIG */
	int err;        /* first failure, latched; 0 while all is well */
	uint32_t depth; /* open objects */
	struct hv_aml_open open[HV_AML_MAX_DEPTH];
};

void hv_aml_init(struct hv_aml *a);
/* Free the buffer (whatever the state). */
void hv_aml_release(struct hv_aml *a);
/* The latched error, or 0. */
int hv_aml_error(const struct hv_aml *a);
/*
 * Finish: on success hands the bytes to the caller (*out, free() them; NULL
 * when nothing was written) and returns 0.  Otherwise frees them and returns
 * the latched error, or -EINVAL if objects are still open.  The writer is
 * empty afterwards either way.
 */
int hv_aml_take(struct hv_aml *a, uint8_t **out, size_t *len);

/* Raw bytes and little-endian integers (for table headers around AML). */
void hv_aml_byte(struct hv_aml *a, uint8_t b);
void hv_aml_raw(struct hv_aml *a, const void *p, size_t n);
void hv_aml_le(struct hv_aml *a, uint64_t v, unsigned int bytes);

/*
 * Encodings, pure.  hv_aml_pkglen_encode(): the PkgLength bytes for a value
 * that already counts the PkgLength itself; returns 1-4, or 0 if the value
 * exceeds HV_AML_PKGLEN_MAX.  hv_aml_int_encode(): the shortest integer
 * (ZeroOp, OneOp, OnesOp, Byte/Word/DWord/QWordPrefix); returns 1-9.
 * hv_aml_eisaid_value(): the compressed EISA id of "PNP0501"-style ids;
 * -EINVAL unless three capitals and four hex digits.
 */
unsigned int hv_aml_pkglen_encode(uint32_t value, uint8_t out[4]);
unsigned int hv_aml_int_encode(uint64_t v, uint8_t out[9]);
int hv_aml_eisaid_value(const char *id, uint32_t *out);
/* Whether s is a valid AML name of 1-4 characters (padded with '_' when
 * emitted): a capital or '_', then capitals, digits or '_'. */
bool hv_aml_nameseg_valid(const char *s);

/* Data objects.  Integers are 64 bits wide, so the tables must have
 * revision 2 or more (in older ones OnesOp means 0xffffffff). */
void hv_aml_int(struct hv_aml *a, uint64_t v);
void hv_aml_string(struct hv_aml *a, const char *s); /* ASCII 0x01-0x7f */
void hv_aml_eisaid(struct hv_aml *a, const char *id); /* EisaId ("PNP0501") */
/*
 * A NameString: optional root '\' or parent '^' prefixes, then 0 or more
 * NameSegs separated by '.', each of 1-4 characters padded with '_':
 * "\\_SB.COM1", "_S5", "^^FOO", "\\" (the root itself).
 */
void hv_aml_namestring(struct hv_aml *a, const char *path);

/* Name (name, <object>): emits NameOp and the name; the object follows. */
void hv_aml_name(struct hv_aml *a, const char *name);
void hv_aml_name_int(struct hv_aml *a, const char *name, uint64_t v);
void hv_aml_name_string(struct hv_aml *a, const char *name, const char *s);
void hv_aml_name_eisaid(struct hv_aml *a, const char *name, const char *id);

/* Objects with a body, closed by hv_aml_end(). */
void hv_aml_scope_begin(struct hv_aml *a, const char *path);
void hv_aml_device_begin(struct hv_aml *a, const char *path);
/* nargs 0-7; serialized: a NotSerialized method unless true. */
void hv_aml_method_begin(struct hv_aml *a, const char *path, unsigned int nargs,
			 bool serialized);
/* nelems 0-255: the elements that follow. */
void hv_aml_package_begin(struct hv_aml *a, unsigned int nelems);
/* A Buffer whose bytes follow (hv_aml_raw()); its size is counted at the end. */
void hv_aml_buffer_begin(struct hv_aml *a);
/* A Buffer of resource descriptors (hv_aml_res_*); the end tag with its
 * checksum is appended by hv_aml_end().  The checksum is computed (the spec
 * also allows 0, "treat as valid", which iasl and ACPICA write). */
void hv_aml_restemplate_begin(struct hv_aml *a);
void hv_aml_end(struct hv_aml *a);

/* Return (<object>): emits ReturnOp; the object follows. */
void hv_aml_return(struct hv_aml *a);

/*
 * Resource descriptors (inside hv_aml_restemplate_begin() only).
 */
/* Extended Interrupt and IRQ descriptor flags; the values are the Extended
 * Interrupt descriptor's Interrupt Vector Flags byte (6.4.3.6). */
#define HV_AML_IRQ_CONSUMER   (1u << 0) /* ResourceConsumer (else ResourceProducer) */
#define HV_AML_IRQ_EDGE       (1u << 1) /* edge-triggered (else level) */
#define HV_AML_IRQ_ACTIVE_LOW (1u << 2) /* active-low (else active-high) */
#define HV_AML_IRQ_SHARED     (1u << 3) /* shared (else exclusive) */
#define HV_AML_IRQ_WAKE       (1u << 4) /* wake capable */
#define HV_AML_IRQ_ALL        0x1fu

/* Address space descriptors (6.4.3.5): resource type, general flags and the
 * memory type-specific flags, as the spec numbers their bits. */
#define HV_AML_SPACE_MEMORY 0u
#define HV_AML_SPACE_IO     1u
#define HV_AML_SPACE_BUS    2u
#define HV_AML_ADDR_CONSUMER  (1u << 0) /* ResourceConsumer (else ResourceProducer) */
#define HV_AML_ADDR_SUBTRACT  (1u << 1) /* SubDecode (else PosDecode) */
#define HV_AML_ADDR_MIN_FIXED (1u << 2)
#define HV_AML_ADDR_MAX_FIXED (1u << 3)
#define HV_AML_MEM_RW             (1u << 0) /* ReadWrite (else ReadOnly) */
#define HV_AML_MEM_NONCACHEABLE   (0u << 1)
#define HV_AML_MEM_CACHEABLE      (1u << 1)
#define HV_AML_MEM_WRITECOMBINING (2u << 1)
#define HV_AML_MEM_PREFETCHABLE   (3u << 1)

struct hv_aml_addr_space {
	uint8_t type;          /* HV_AML_SPACE_* */
	uint8_t general_flags; /* HV_AML_ADDR_* */
	uint8_t type_flags;    /* HV_AML_MEM_* for memory; 0x03 (EntireRange) for I/O */
	uint64_t granularity;
	uint64_t min;
	uint64_t max;
	uint64_t translation;
	uint64_t length;
};

void hv_aml_res_memory32_fixed(struct hv_aml *a, bool rw, uint32_t base, uint32_t len);
/* IO (Decode16, min, max, align, len) */
void hv_aml_res_io(struct hv_aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
/* FixedIO (base, len): 10-bit decode, base <= 0x3ff. */
void hv_aml_res_fixed_io(struct hv_aml *a, uint16_t base, uint8_t len);
/* IRQNoFlags () {irq} when flags are HV_AML_IRQ_EDGE, else IRQ (...) {irq};
 * irq 0-15.  HV_AML_IRQ_CONSUMER is implied and ignored. */
void hv_aml_res_irq(struct hv_aml *a, unsigned int irq, uint32_t flags);
/* Interrupt (...) {irqs[0], ...}: 1-255 interrupts. */
void hv_aml_res_ext_irq(struct hv_aml *a, uint32_t flags, const uint32_t *irqs, unsigned int n);
/* WordSpace/DWordSpace/QWordSpace: every value must fit the width. */
void hv_aml_res_word_space(struct hv_aml *a, const struct hv_aml_addr_space *s);
void hv_aml_res_dword_space(struct hv_aml *a, const struct hv_aml_addr_space *s);
void hv_aml_res_qword_space(struct hv_aml *a, const struct hv_aml_addr_space *s);

/* Latch err, with "AML: what" as this thread's error message, unless an
 * error is latched already. */
void hv_aml_fail(struct hv_aml *a, int err, const char *what);
/* True, after latching -EINVAL, unless the innermost open object is a
 * resource template. */
bool hv_aml_not_in_restemplate(struct hv_aml *a, const char *descriptor);

#endif /* HV_ACPI_AML_H */
