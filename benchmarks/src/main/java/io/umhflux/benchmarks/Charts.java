package io.umhflux.benchmarks;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.stream.Stream;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.StandardChartTheme;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.CombinedDomainCategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Draws PNG charts of one {@code benchmarks/run.sh} run with JFreeChart, from the raw results it leaves in
 * {@code benchmarks/results/raw}: the JMH JSON files, the C baselines' text output and the ManyHelpers JSON
 * lines.
 *
 * <ul>
 *   <li>{@code echo_throughput.png}: raw bytes echoed through cat by chunk size, umh-flux (its default pipes, and
 *       the kernel's) vs ProcessBuilder vs C ({@code echo.json}, {@code echo_kernelpipes.json},
 *       {@code echo_c.txt});</li>
 *   <li>{@code typed_echo.png}: Kryo messages echoed through cat, small and large, umh-flux vs
 *       ProcessBuilder + Kryo vs NuProcess + Kryo ({@code typed.json});</li>
 *   <li>{@code spawn_latency.png}: spawn + exit of a tiny executable, umh-flux vs ProcessBuilder vs C
 *       {@code posix_spawn} ({@code spawn.json}, {@code spawn_c.txt});</li>
 *   <li>{@code many_helpers.png}: peak JVM threads and peak used heap against the number of concurrent
 *       streaming helpers, and where spawning was refused ({@code many_scale.jsonl}, else {@code many.json}).
 *   </li>
 * </ul>
 *
 * <p>A chart whose raw results are missing or unreadable is skipped with a line on stderr; the others are
 * still written, and the exit code is 0 (2 only for wrong arguments).
 *
 * <p>usage: {@code java -cp benchmarks.jar io.umhflux.benchmarks.Charts RAW_DIR CHART_DIR}
 */
final class Charts {
    private static final int WIDTH = 900;
    private static final int HEIGHT = 560;
    private static final String KEPT = " (a PNG of an earlier run, if any, is left as it was)";
    private static final String UMH = "umh-flux";
    private static final String PROCESS_BUILDER = "ProcessBuilder";
    /** One colour per implementation, the same in every chart. */
    private static final Map<String, Color> COLOURS = Map.of(
            UMH, new Color(0x1f77b4),
            PROCESS_BUILDER, new Color(0xff7f0e),
            "ProcessBuilder + Kryo", new Color(0xff7f0e),
            "NuProcess + Kryo", new Color(0x2ca02c),
            "C read/write", new Color(0x7f7f7f),
            "C posix_spawn", new Color(0x7f7f7f));

    private Charts() {
    }

    /** Makes one chart from the raw results directory. */
    @FunctionalInterface
    interface Drawing {
        JFreeChart draw(Path raw) throws IOException;
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: Charts RAW_DIR CHART_DIR");
            System.exit(2);
        }
        System.setProperty("java.awt.headless", "true");
        Path raw = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Files.createDirectories(out);
        ChartFactory.setChartTheme(theme());
        Map<String, Drawing> charts = new LinkedHashMap<>();
        charts.put("echo_throughput", Charts::echoThroughput);
        charts.put("typed_echo", Charts::typedEcho);
        charts.put("spawn_latency", Charts::spawnLatency);
        charts.put("many_helpers", Charts::manyHelpers);
        String run = runDescription(raw);
        for (Map.Entry<String, Drawing> chart : charts.entrySet()) {
            Path png = out.resolve(chart.getKey() + ".png");
            try {
                JFreeChart drawn = chart.getValue().draw(raw);
                drawn.addSubtitle(new TextTitle(run, new Font(Font.SANS_SERIF, Font.ITALIC, 11)));
                ChartUtils.saveChartAsPNG(png.toFile(), drawn, WIDTH, HEIGHT);
                System.out.println("wrote " + png);
            } catch (NoSuchFileException e) {
                System.err.println("charts: skipped " + png.getFileName() + ": no raw result " + e.getFile()
                        + KEPT);
            } catch (IOException | RuntimeException e) {
                System.err.println("charts: skipped " + png.getFileName() + ": " + e + KEPT);
            }
        }
    }

    /** White plots, flat bars, no shadows. */
    private static StandardChartTheme theme() {
        StandardChartTheme theme = (StandardChartTheme) StandardChartTheme.createJFreeTheme();
        theme.setPlotBackgroundPaint(Color.WHITE);
        theme.setRangeGridlinePaint(Color.LIGHT_GRAY);
        theme.setDomainGridlinePaint(Color.LIGHT_GRAY);
        theme.setBarPainter(new StandardBarPainter());
        theme.setShadowVisible(false);
        return theme;
    }

    /** "quick run of benchmarks/run.sh, DATE, MACHINE", from machine.txt when run.sh wrote it. */
    private static String runDescription(Path raw) {
        Map<String, String> machine = new LinkedHashMap<>();
        try (Stream<String> lines = Files.lines(raw.resolve("machine.txt"))) {
            lines.map(l -> l.split(":\\s*", 2)).filter(kv -> kv.length == 2).forEach(kv -> machine.put(kv[0],
                    kv[1]));
        } catch (IOException e) {
            return "one run of benchmarks/run.sh; compare only within one run";
        }
        return String.format(Locale.ROOT, "%s run of benchmarks/run.sh, %s; %s cores, Linux %s, %s",
                machine.getOrDefault("mode", "?"), machine.getOrDefault("date", "?"),
                machine.getOrDefault("cores", "?"), machine.getOrDefault("kernel", "?"),
                machine.getOrDefault("jdk", "?"));
    }

    // ---- the charts

    static JFreeChart echoThroughput(Path raw) throws IOException {
        List<JmhRow> echo = jmh(raw.resolve("echo.json"));
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        double total = EchoBenchmark.TOTAL;
        Map<Integer, String> chunks = new LinkedHashMap<>();
        chunks.put(4096, "4 KiB");
        chunks.put(65536, "64 KiB");
        chunks.put(1048576, "1 MiB");
        for (Map.Entry<Integer, String> chunk : chunks.entrySet()) {
            Map<String, String> params = Map.of("chunk", chunk.getKey().toString(), "pipeSize", "-1");
            for (String[] method : new String[][] {{"umhFlux", UMH}, {"processBuilder", PROCESS_BUILDER}}) {
                JmhRow row = find(echo, method[0], params);
                data.addValue(total / row.seconds() / 1e9, method[1], chunk.getValue());
            }
        }
        Path kernel = raw.resolve("echo_kernelpipes.json");
        if (Files.exists(kernel)) {
            List<JmhRow> onKernelPipes = jmh(kernel);
            for (int chunk : new int[] {4096, 65536}) {
                JmhRow row = find(onKernelPipes, "umhFlux", Map.of("chunk", Integer.toString(chunk), "pipeSize", "0"));
                data.addValue(total / row.seconds() / 1e9, UMH + ", kernel's 64 KiB pipes", chunks.get(chunk));
            }
        }
        try {
            for (Map.Entry<Integer, String> chunk : chunks.entrySet()) {
                double c = median(cBaseline(raw.resolve("echo_c.txt"), "chunk=" + chunk.getKey(),
                        "bytes_per_sec"));
                data.addValue(c / 1e9, "C read/write", chunk.getValue());
            }
        } catch (IOException | NoSuchElementException e) {
            System.err.println("charts: echo_throughput without the C baseline: " + e);
        }
        JFreeChart chart = ChartFactory.createBarChart("Raw bytes echoed through cat (64 MiB per operation)",
                "chunk size written by the publisher", "GB/s (higher is better)", data);
        styleBars(chart.getCategoryPlot(), "0.00");
        return chart;
    }

    static JFreeChart typedEcho(Path raw) throws IOException {
        List<JmhRow> typed = jmh(raw.resolve("typed.json"));
        CombinedDomainCategoryPlot plot = new CombinedDomainCategoryPlot(new CategoryAxis());
        plot.getDomainAxis().setTickLabelsVisible(false);
        plot.setGap(12);
        List<CategoryPlot> subplots = new ArrayList<>();
        String[][] sizes = {{"small", "200000", "small messages (~30 B)"},
            {"large", "1000", "large messages (64 KiB)"}};
        for (String[] size : sizes) {
            DefaultCategoryDataset data = new DefaultCategoryDataset();
            for (String[] method : new String[][] {{"umhFlux", UMH}, {"processBuilder", "ProcessBuilder + Kryo"},
                {"nuProcess", "NuProcess + Kryo"}}) {
                List<JmhRow> rows = typed.stream().filter(r -> r.method().equals(method[0])
                        && size[0].equals(r.params().get("size"))).toList();
                if (!rows.isEmpty()) {
                    data.addValue(Long.parseLong(size[1]) / rows.get(0).seconds(), method[1], "");
                }
            }
            if (data.getRowCount() == 0) {
                throw new NoSuchElementException("no " + size[0] + " rows in typed.json");
            }
            NumberAxis axis = new NumberAxis(size[2] + ", messages/s");
            CategoryPlot sub = new CategoryPlot(data, null, axis, new BarRenderer());
            subplots.add(sub);
            plot.add(sub, 1);
        }
        plot.setOrientation(PlotOrientation.HORIZONTAL);
        JFreeChart chart = new JFreeChart("Kryo messages echoed through cat (higher is better)",
                JFreeChart.DEFAULT_TITLE_FONT, plot, false);
        ChartFactory.getChartTheme().apply(chart); // before the colours: applying a theme resets them
        for (CategoryPlot sub : subplots) {
            styleBars(sub, "#,##0");
            BarRenderer renderer = (BarRenderer) sub.getRenderer();
            renderer.setDefaultPositiveItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE3,
                    TextAnchor.CENTER_LEFT));
            ((NumberAxis) sub.getRangeAxis()).setUpperMargin(0.25);
        }
        LegendTitle legend = new LegendTitle(subplots.get(0)); // each subplot has the same series
        legend.setPosition(RectangleEdge.BOTTOM);
        chart.addSubtitle(legend);
        return chart;
    }

    static JFreeChart spawnLatency(Path raw) throws IOException {
        List<JmhRow> spawn = jmh(raw.resolve("spawn.json"));
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        data.addValue(find(spawn, "umhFlux", Map.of()).micros(), UMH, "");
        data.addValue(find(spawn, "processBuilder", Map.of()).micros(), PROCESS_BUILDER, "");
        try {
            data.addValue(median(cBaseline(raw.resolve("spawn_c.txt"), "", "ns_per_op")) / 1000, "C posix_spawn",
                    "");
        } catch (IOException | NoSuchElementException e) {
            System.err.println("charts: spawn_latency without the C baseline: " + e);
        }
        JFreeChart chart = ChartFactory.createBarChart("Spawn + exit of a tiny static executable, three pipes",
                null, "microseconds per spawn + wait (lower is better)", data);
        styleBars(chart.getCategoryPlot(), "#,##0");
        return chart;
    }

    static JFreeChart manyHelpers(Path raw) throws IOException {
        Path scale = raw.resolve("many_scale.jsonl");
        List<JsonObject> runs = new ArrayList<>();
        try (Stream<String> lines = Files.lines(Files.exists(scale) ? scale : raw.resolve("many.json"))) {
            lines.filter(l -> l.startsWith("{")).forEach(l -> runs.add(JsonParser.parseString(l).getAsJsonObject()));
        }
        XYSeries threads = new XYSeries("JVM threads, peak");
        XYSeries heap = new XYSeries("used heap, peak (MiB)");
        JsonObject refused = null;
        long threadsLimit = 0;
        for (JsonObject run : runs) {
            if (run.has("limit")) { // a refused or crashed run: no streaming was measured
                refused = run.get("spawned").getAsLong() > 0 ? run : null;
                continue;
            }
            threads.add(run.get("helpers").getAsDouble(), run.get("threads_max").getAsDouble());
            heap.add(run.get("helpers").getAsDouble(), run.get("heap_max_mib").getAsDouble());
            threadsLimit = run.get("threads_limit").getAsLong();
        }
        if (threads.isEmpty()) {
            throw new NoSuchElementException("no completed ManyHelpers run");
        }
        LogAxis helpers = new LogAxis("concurrent streaming cat helpers (1 MiB echoed each)");
        helpers.setBase(10);
        helpers.setTickUnit(new NumberTickUnit(1)); // one tick per power of ten
        helpers.setNumberFormatOverride(new DecimalFormat("#,##0"));
        NumberAxis threadAxis = new NumberAxis("JVM threads, peak");
        threadAxis.setRange(0, Math.max(threads.getMaxY(), threadsLimit) * 1.6);
        NumberAxis heapAxis = new NumberAxis("used heap, peak (MiB)");
        heapAxis.setRange(0, Math.max(heap.getMaxY(), 64) * 1.3);
        XYPlot plot = new XYPlot(new XYSeriesCollection(threads), helpers, threadAxis, lines());
        plot.setDataset(1, new XYSeriesCollection(heap));
        plot.setRangeAxis(1, heapAxis);
        plot.mapDatasetToRangeAxis(1, 1);
        plot.setRenderer(1, lines());
        JFreeChart chart = new JFreeChart("JVM threads and heap against concurrent helpers",
                JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        ChartFactory.getChartTheme().apply(chart); // before the colours: applying a theme resets them
        plot.getRenderer(0).setSeriesPaint(0, COLOURS.get(UMH));
        plot.getRenderer(1).setSeriesPaint(0, new Color(0xd62728));
        double most = Math.max(threads.getMaxX(), refused == null ? 0 : refused.get("spawned").getAsDouble());
        helpers.setRange(threads.getMinX() / 2, Math.pow(10, Math.ceil(Math.log10(most * 1.2))));
        plot.addRangeMarker(0, marker(threadsLimit, "thread target: 2 x cores + 8 = " + threadsLimit,
                COLOURS.get(UMH)), Layer.BACKGROUND);
        plot.addRangeMarker(1, marker(64, "heap target at 1,000 helpers: 64 MiB", new Color(0xd62728)),
                Layer.BACKGROUND);
        if (refused != null) {
            long spawned = refused.get("spawned").getAsLong();
            ValueMarker stop = marker(spawned, String.format(Locale.ROOT, "spawn refused after %,d", spawned),
                    Color.BLACK);
            stop.setLabelAnchor(RectangleAnchor.TOP_LEFT);
            stop.setLabelTextAnchor(TextAnchor.TOP_RIGHT);
            plot.addDomainMarker(stop);
            chart.addSubtitle(new TextTitle(String.format(Locale.ROOT,
                    "Asked for %,d helpers: spawn refused after %,d alive, limit: %s", refused.get("helpers")
                            .getAsLong(), spawned, refused.get("limit").getAsString())));
        }
        return chart;
    }

    // ---- styling

    private static void styleBars(CategoryPlot plot, String format) {
        BarRenderer renderer = (BarRenderer) plot.getRenderer();
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setItemMargin(0.05);
        renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}",
                new DecimalFormat(format)));
        renderer.setDefaultItemLabelsVisible(true);
        for (int row = 0; row < plot.getDataset().getRowCount(); row++) {
            Paint colour = COLOURS.get(plot.getDataset().getRowKey(row).toString());
            if (colour != null) {
                renderer.setSeriesPaint(row, colour);
            }
        }
        NumberAxis range = (NumberAxis) plot.getRangeAxis();
        range.setUpperMargin(0.12); // room for the item labels
    }

    private static XYLineAndShapeRenderer lines() {
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        renderer.setSeriesStroke(0, new BasicStroke(2f));
        return renderer;
    }

    private static ValueMarker marker(double value, String label, Color colour) {
        ValueMarker marker = new ValueMarker(value, colour, new BasicStroke(1f, BasicStroke.CAP_BUTT,
                BasicStroke.JOIN_MITER, 1f, new float[] {6f, 4f}, 0f));
        marker.setLabel(label);
        marker.setLabelPaint(colour);
        marker.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        marker.setLabelBackgroundColor(new Color(255, 255, 255, 0));
        marker.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
        marker.setLabelTextAnchor(TextAnchor.BOTTOM_RIGHT);
        return marker;
    }

    // ---- reading the raw results

    /** One JMH result: method name, parameters, score in its unit. */
    record JmhRow(String method, Map<String, String> params, double score, String unit) {
        /** @return the score of an average-time benchmark in seconds per operation */
        double seconds() {
            return score * switch (unit) {
                case "s/op" -> 1.0;
                case "ms/op" -> 1e-3;
                case "us/op" -> 1e-6;
                case "ns/op" -> 1e-9;
                default -> throw new IllegalArgumentException("not an average time: " + unit);
            };
        }

        double micros() {
            return seconds() * 1e6;
        }
    }

    static List<JmhRow> jmh(Path file) throws IOException {
        List<JmhRow> rows = new ArrayList<>();
        try (Reader in = Files.newBufferedReader(file)) {
            for (JsonElement e : JsonParser.parseReader(in).getAsJsonArray()) {
                JsonObject r = e.getAsJsonObject();
                String benchmark = r.get("benchmark").getAsString();
                Map<String, String> params = new LinkedHashMap<>();
                if (r.has("params")) {
                    r.getAsJsonObject("params").entrySet().forEach(p -> params.put(p.getKey(),
                            p.getValue().getAsString()));
                }
                JsonObject metric = r.getAsJsonObject("primaryMetric");
                rows.add(new JmhRow(benchmark.substring(benchmark.lastIndexOf('.') + 1), params,
                        metric.get("score").getAsDouble(), metric.get("scoreUnit").getAsString()));
            }
        }
        return rows;
    }

    private static JmhRow find(List<JmhRow> rows, String method, Map<String, String> params) {
        return rows.stream().filter(r -> r.method().equals(method) && r.params().entrySet()
                .containsAll(params.entrySet())).findFirst()
                .orElseThrow(() -> new NoSuchElementException("no JMH result for " + method + " " + params));
    }

    /**
     * The last number of each line that has {@code tag} among its words (any line for an empty tag) and contains
     * {@code key}: run.sh marks the C loops' lines with their chunk size ({@code chunk=4096}) and round.
     */
    static List<Double> cBaseline(Path file, String tag, String key) throws IOException {
        try (Stream<String> lines = Files.lines(file)) {
            List<Double> values = lines.filter(l -> (tag.isEmpty() || List.of(l.split(" ")).contains(tag))
                    && l.contains(key))
                    .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).toList();
            if (values.isEmpty()) {
                throw new NoSuchElementException("no '" + key + "' lines in " + file);
            }
            return values;
        }
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
