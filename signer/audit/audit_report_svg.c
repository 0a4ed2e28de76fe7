/* The report's chart: sign requests per day as stacked bars (granted, refused, error), inline
 * SVG with labelled axes. Every day from the first to the last is a slot, so quiet days show
 * as gaps; past AR_CHART_BARS days, each bar covers several days. The only text in it is
 * numbers and dates made here, never a string from the log. */
#include <string.h>

#include "signer/audit/audit_report_int.h"

#define CH_W 1100
#define CH_H 380
#define CH_LEFT 76
#define CH_RIGHT 16
#define CH_TOP 40
#define CH_BOTTOM 70
#define CH_BAR_MAX 48.0

static const char *const ch_fill[AR_NOUTCOMES] = {"#2e7d32", "#c62828", "#ef8f00"};
static const char *const ch_name[AR_NOUTCOMES] = {"granted", "refused", "error"};

/* H. Hinnant's civil_from_days. */
void
ar_day_str(long day, char *out, size_t size)
{
    long z = day + 719468, era = (z >= 0 ? z : z - 146096) / 146097, y;
    unsigned doe = (unsigned)(z - era * 146097), yoe, doy, mp, d, m;

    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (long)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    snprintf(out, size, "%04ld-%02u-%02u", y + (m <= 2), m, d);
}

static unsigned long long
ch_total(const struct ar_count *c)
{
    return c->n[AR_GRANTED] + c->n[AR_REFUSED] + c->n[AR_ERROR];
}

/* A tick step of 1, 2 or 5 times a power of ten giving at most five steps up to max. */
static unsigned long long
nice_step(unsigned long long max)
{
    unsigned long long p = 1;

    for (; p < ~0ULL / 100; p *= 10) {
        if (p * 5 >= max)
            return p;
        if (p * 10 >= max)
            return 2 * p;
        if (p * 25 >= max)
            return 5 * p;
    }
    return p;
}

struct chart {
    struct ar_count bar[AR_CHART_BARS];
    long first, per, nbars;
    unsigned long long top, step;
    double x0, x1, y0, y1, slot;
};

static void
chart_bucket(struct chart *c, const struct ar_stats *st)
{
    long span = st->days[st->ndays - 1].day - st->days[0].day + 1, b;
    unsigned long long max = 1;
    size_t i;
    int o;

    memset(c, 0, sizeof(*c));
    c->first = st->days[0].day;
    c->per = (span + AR_CHART_BARS - 1) / AR_CHART_BARS;
    c->nbars = (span + c->per - 1) / c->per;
    for (i = 0; i < st->ndays; i++) {
        b = (st->days[i].day - c->first) / c->per;
        for (o = 0; o < AR_NOUTCOMES; o++)
            c->bar[b].n[o] += st->days[i].c.n[o];
    }
    for (b = 0; b < c->nbars; b++)
        max = ch_total(&c->bar[b]) > max ? ch_total(&c->bar[b]) : max;
    c->step = nice_step(max);
    c->top = (max + c->step - 1) / c->step * c->step;
    c->x0 = CH_LEFT;
    c->x1 = CH_W - CH_RIGHT;
    c->y0 = CH_TOP;
    c->y1 = CH_H - CH_BOTTOM;
    c->slot = (c->x1 - c->x0) / (double)c->nbars;
}

static double
ch_y(const struct chart *c, unsigned long long v)
{
    return c->y1 - (double)v / (double)c->top * (c->y1 - c->y0);
}

static void
chart_axes(FILE *fp, const struct chart *c)
{
    unsigned long long v;
    double y;

    for (v = 0; v <= c->top; v += c->step) {
        y = ch_y(c, v);
        fprintf(fp,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%llu</text>\n",
            c->x0, y, c->x1, y, c->x0 - 6, y + 4, v);
    }
    fprintf(fp,
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
        c->x0, c->y0, c->x0, c->y1, c->x0, c->y1, c->x1, c->y1);
    fprintf(fp,
        "<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 18 %.1f)\">"
        "sign requests per %s</text>\n",
        (c->y0 + c->y1) / 2, (c->y0 + c->y1) / 2, c->per == 1 ? "day" : "bar");
    if (c->per == 1)
        fprintf(fp, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">day (UTC)</text>\n",
            (c->x0 + c->x1) / 2, CH_H - 12);
    else
        fprintf(fp,
            "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%ld days per bar, labelled by "
            "the first (UTC)</text>\n",
            (c->x0 + c->x1) / 2, CH_H - 12, c->per);
}

/* About ten date labels, whatever the number of bars. */
static void
chart_labels(FILE *fp, const struct chart *c)
{
    long every = (c->nbars + 9) / 10, b;
    char date[16];
    double x;

    for (b = 0; b < c->nbars; b += every) {
        x = c->x0 + ((double)b + 0.5) * c->slot;
        ar_day_str(c->first + b * c->per, date, sizeof(date));
        fprintf(fp,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
            x, c->y1, x, c->y1 + 5, x, c->y1 + 20, date);
    }
}

static void
chart_bars(FILE *fp, const struct chart *c)
{
    double w = c->slot * 0.8 > CH_BAR_MAX ? CH_BAR_MAX : c->slot * 0.8, x, y, h;
    unsigned long long below;
    char date[16];
    long b;
    int o;

    if (c->slot < 3)
        w = c->slot; /* hundreds of bars: gaps would be wider than the bars */
    for (b = 0; b < c->nbars; b++) {
        if (ch_total(&c->bar[b]) == 0)
            continue;
        ar_day_str(c->first + b * c->per, date, sizeof(date));
        x = c->x0 + (double)b * c->slot + (c->slot - w) / 2;
        fprintf(fp, "<g><title>%s%s: %llu granted, %llu refused, %llu error</title>", date,
            c->per > 1 ? " and after" : "", c->bar[b].n[AR_GRANTED], c->bar[b].n[AR_REFUSED],
            c->bar[b].n[AR_ERROR]);
        for (below = 0, o = 0; o < AR_NOUTCOMES; below += c->bar[b].n[o], o++) {
            if (c->bar[b].n[o] == 0)
                continue;
            y = ch_y(c, below + c->bar[b].n[o]);
            h = ch_y(c, below) - y;
            fprintf(fp, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>",
                x, y, w, h, ch_fill[o]);
        }
        fputs("</g>\n", fp);
    }
}

static void
chart_legend(FILE *fp, const struct chart *c)
{
    int o;

    for (o = 0; o < AR_NOUTCOMES; o++)
        fprintf(fp,
            "<rect x=\"%.1f\" y=\"12\" width=\"12\" height=\"12\" fill=\"%s\"/>"
            "<text x=\"%.1f\" y=\"22\">%s</text>\n",
            c->x0 + 110.0 * o, ch_fill[o], c->x0 + 110.0 * o + 18, ch_name[o]);
}

void
ar_write_chart(FILE *fp, const struct ar_stats *st)
{
    struct chart c;

    fputs("<h2 id=\"per-day\">Sign requests per day</h2>\n", fp);
    if (st->ndays == 0)
        fputs("<p>No sign request with a date: nothing to chart.</p>\n", fp);
    else {
        chart_bucket(&c, st);
        fprintf(fp,
            "<svg id=\"chart\" role=\"img\" aria-label=\"sign requests per day\" "
            "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" data-bars=\"%ld\" "
            "data-days-per-bar=\"%ld\">\n<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n",
            CH_W, CH_H, CH_W, CH_H, c.nbars, c.per, CH_W, CH_H);
        chart_legend(fp, &c);
        chart_axes(fp, &c);
        chart_bars(fp, &c);
        chart_labels(fp, &c);
        fputs("</svg>\n", fp);
    }
    if (ch_total(&st->undated) > 0)
        fprintf(fp,
            "<p class=\"note\">Not charted: %llu sign requests without a valid "
            "date.</p>\n",
            ch_total(&st->undated));
    if (ch_total(&st->days_more) > 0)
        fprintf(fp,
            "<p class=\"note\">Not charted: %llu sign requests on days past the first %d "
            "distinct ones.</p>\n",
            ch_total(&st->days_more), AR_MAX_DAYS);
}
