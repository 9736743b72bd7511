package io.dwcp.bench;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code dwcp chart --csv FILE... --out FILE.png [--title T] [--x-label L] [--y-label L]}: draws a line chart (PNG,
 * XChart) from CSV files. Each CSV has a header line; its first column is x, and every further column is one series
 * named after its header (prefixed with the file name when two files use the same header). Lines starting with
 * {@code #} and empty cells are skipped. {@code --hline VALUE:LABEL} adds a horizontal reference line (e.g. the link
 * rate). Used by {@code scripts/bench-migration.sh} for goodput over time per method.
 */
final class ChartCommand implements DwcpCli.Command {
    @Override
    public String summary() {
        return "draw a PNG line chart from CSV files (first column x, one series per further column)";
    }

    @Override
    public int run(String[] args) throws Exception {
        // --csv may be repeated or followed by several files; the parser keeps one value, so gather them here.
        List<Path> csvs = new ArrayList<>();
        List<String> rest = new ArrayList<>();
        List<String> hlines = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--csv")) {
                if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                    throw new CliArgs.UsageException("--csv needs at least one FILE");
                }
                while (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                    csvs.add(Path.of(args[++i]));
                }
            } else if (args[i].equals("--hline")) {
                if (i + 1 >= args.length) {
                    throw new CliArgs.UsageException("--hline needs VALUE:LABEL");
                }
                hlines.add(args[++i]);
            } else {
                rest.add(args[i]);
            }
        }
        CliArgs a = new CliArgs(rest.toArray(new String[0]),
                Set.of("out", "title", "x-label", "y-label", "width", "height"), Set.of("help"));
        if (a.flag("help") || csvs.isEmpty() || !a.positional().isEmpty()) {
            System.err.println("usage: dwcp chart --csv FILE... --out FILE.png [--title T] [--x-label L] [--y-label L]"
                    + " [--hline VALUE:LABEL] [--width 1200] [--height 600]");
            return a.flag("help") ? 0 : 2;
        }
        Path out = Path.of(a.require("out"));
        int width = parseInt(a.get("width", "1200"), "width");
        int height = parseInt(a.get("height", "600"), "height");

        Map<String, Series> series = new LinkedHashMap<>();
        for (Path csv : csvs) {
            if (!Files.isRegularFile(csv)) {
                throw new CliArgs.UsageException(csv + " is not a readable file");
            }
            for (Series s : Csv.read(csv)) {
                String name = s.name;
                if (series.containsKey(name)) {
                    name = stem(csv) + ": " + s.name;
                }
                series.put(name, s);
            }
        }
        if (series.isEmpty()) {
            throw new CliArgs.UsageException("no data series in " + csvs);
        }

        XYChart chart = new XYChartBuilder().width(width).height(height)
                .title(a.get("title", ""))
                .xAxisTitle(a.get("x-label", "seconds"))
                .yAxisTitle(a.get("y-label", "Mbit/s"))
                .build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        chart.getStyler().setMarkerSize(0);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setPlotGridLinesVisible(true);
        chart.getStyler().setYAxisMin(0.0);
        double xMin = Double.MAX_VALUE;
        double xMax = -Double.MAX_VALUE;
        for (Map.Entry<String, Series> e : series.entrySet()) {
            Series s = e.getValue();
            if (s.x.isEmpty()) {
                continue;
            }
            XYSeries xy = chart.addSeries(e.getKey(), s.x, s.y);
            xy.setMarker(SeriesMarkers.NONE);
            xMin = Math.min(xMin, s.x.get(0));
            xMax = Math.max(xMax, s.x.get(s.x.size() - 1));
        }
        for (String h : hlines) {
            int colon = h.indexOf(':');
            double v;
            try {
                v = Double.parseDouble(colon < 0 ? h : h.substring(0, colon));
            } catch (NumberFormatException ex) {
                throw new CliArgs.UsageException("--hline '" + h + "' is not VALUE:LABEL");
            }
            String label = colon < 0 ? "y = " + h : h.substring(colon + 1);
            if (xMin <= xMax) {
                XYSeries xy = chart.addSeries(label, new double[]{xMin, xMax}, new double[]{v, v});
                xy.setMarker(SeriesMarkers.NONE);
                xy.setLineStyle(new java.awt.BasicStroke(1.5f, java.awt.BasicStroke.CAP_BUTT, java.awt.BasicStroke.JOIN_MITER,
                        10f, new float[]{6f, 4f}, 0f));
                xy.setLineColor(java.awt.Color.GRAY);
            }
        }
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        String file = out.toString();
        if (file.toLowerCase(java.util.Locale.ROOT).endsWith(".png")) {
            file = file.substring(0, file.length() - 4);
        }
        BitmapEncoder.saveBitmap(chart, file, BitmapEncoder.BitmapFormat.PNG);
        System.out.println("wrote " + file + ".png (" + series.size() + " series)");
        return 0;
    }

    private static int parseInt(String v, String name) {
        try {
            int n = Integer.parseInt(v);
            if (n < 100 || n > 10000) {
                throw new CliArgs.UsageException("--" + name + " must be between 100 and 10000");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new CliArgs.UsageException("--" + name + " '" + v + "' is not a number");
        }
    }

    private static String stem(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    /** One named series of (x, y) points. */
    static final class Series {
        final String name;
        final List<Double> x = new ArrayList<>();
        final List<Double> y = new ArrayList<>();

        Series(String name) {
            this.name = name;
        }
    }

    /** Reads the small numeric CSV files the benchmark scripts write. */
    static final class Csv {
        private Csv() {
        }

        static List<Series> read(Path csv) throws IOException {
            List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
            List<Series> result = new ArrayList<>();
            int row = 0;
            boolean header = true;
            for (String line : lines) {
                row++;
                String t = line.strip();
                if (t.isEmpty() || t.startsWith("#")) {
                    continue;
                }
                String[] cells = t.split(",", -1);
                if (header) {
                    if (cells.length < 2) {
                        throw new CliArgs.UsageException(csv + ": header needs an x column and at least one series");
                    }
                    for (int c = 1; c < cells.length; c++) {
                        result.add(new Series(unquote(cells[c])));
                    }
                    header = false;
                    continue;
                }
                double x = number(cells[0], csv, row);
                for (int c = 1; c < cells.length && c <= result.size(); c++) {
                    String cell = cells[c].strip();
                    if (cell.isEmpty()) {
                        continue;
                    }
                    Series s = result.get(c - 1);
                    s.x.add(x);
                    s.y.add(number(cell, csv, row));
                }
            }
            return result;
        }

        private static String unquote(String s) {
            String t = s.strip();
            if (t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"")) {
                t = t.substring(1, t.length() - 1);
            }
            return t;
        }

        private static double number(String s, Path csv, int row) {
            try {
                return Double.parseDouble(s.strip());
            } catch (NumberFormatException e) {
                throw new CliArgs.UsageException(csv + " line " + row + ": '" + s + "' is not a number");
            }
        }
    }
}
