package thumbnail

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"os"
	"testing"
)

func TestSize(t *testing.T) {
	for _, c := range []struct{ w, h, width, tw, th int }{
		{1024, 768, 128, 128, 96},
		{1000, 333, 100, 100, 33},
		{1000, 335, 100, 100, 34}, // 33.5 rounds up
		{5000, 10, 128, 128, 1},   // never zero pixels high
		{64, 48, 128, 64, 48},     // not enlarged
		{300, 200, 0, 128, 85},    // default width
	} {
		if tw, th := Size(c.w, c.h, c.width); tw != c.tw || th != c.th {
			t.Errorf("Size(%d, %d, %d) = %dx%d, want %dx%d", c.w, c.h, c.width, tw, th, c.tw, c.th)
		}
	}
}

// Each thumbnail pixel is the mean of the block of source pixels it covers.
func TestScaleAveragesBlocks(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 4, 2))
	left := []color.RGBA{{0, 0, 0, 255}, {100, 0, 0, 255}, {200, 0, 0, 255}, {100, 0, 0, 255}}
	for i, c := range left {
		src.SetRGBA(i%2, i/2, c)
	}
	for y := range 2 {
		for x := 2; x < 4; x++ {
			src.SetRGBA(x, y, color.RGBA{0, 50, 255, 255})
		}
	}
	dst := Scale(src, 2)
	if dst.Bounds() != image.Rect(0, 0, 2, 1) {
		t.Fatalf("bounds %v, want 2x1", dst.Bounds())
	}
	if got, want := dst.RGBAAt(0, 0), (color.RGBA{100, 0, 0, 255}); got != want {
		t.Errorf("left pixel %v, want %v", got, want)
	}
	if got, want := dst.RGBAAt(1, 0), (color.RGBA{0, 50, 255, 255}); got != want {
		t.Errorf("right pixel %v, want %v", got, want)
	}
}

// A transparent pixel next to an opaque one gives a half-transparent pixel
// of the opaque colour, not a darker one.
func TestScalePremultipliedAlpha(t *testing.T) {
	src := image.NewNRGBA(image.Rect(10, 10, 12, 11)) // non-zero origin, non-RGBA type
	src.SetNRGBA(10, 10, color.NRGBA{255, 255, 255, 255})
	src.SetNRGBA(11, 10, color.NRGBA{0, 0, 0, 0})
	got := color.NRGBAModel.Convert(Scale(src, 1).At(0, 0)).(color.NRGBA)
	if got.A < 127 || got.A > 128 || got.R < 254 || got.G < 254 || got.B < 254 {
		t.Errorf("got %v, want white at half opacity", got)
	}
}

func TestMakeSample(t *testing.T) {
	data, err := os.ReadFile("../sample.jpg")
	if err != nil {
		t.Fatal(err)
	}
	format, w, h, err := Inspect(data)
	if err != nil || format != "jpeg" || w != 1024 || h != 768 {
		t.Fatalf("Inspect = %q %dx%d %v, want jpeg 1024x768", format, w, h, err)
	}
	out, err := Make(data, 128)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("thumbnail is not a PNG: %v", err)
	}
	if img.Bounds().Dx() != 128 || img.Bounds().Dy() != 96 {
		t.Fatalf("thumbnail %v, want 128x96", img.Bounds())
	}
	// The sample has sky at the top and green hills at the bottom.
	top := color.RGBAModel.Convert(img.At(10, 2)).(color.RGBA)
	bottom := color.RGBAModel.Convert(img.At(10, 93)).(color.RGBA)
	if top.B < 200 || bottom.G < 60 || bottom.B > 90 {
		t.Errorf("top %v should be sky blue, bottom %v hill green", top, bottom)
	}
}

func TestInspectRefuses(t *testing.T) {
	if _, _, _, err := Inspect([]byte("hello, not an image")); !errors.Is(err, ErrNotImage) {
		t.Errorf("text: err %v, want ErrNotImage", err)
	}
	// A tiny GIF whose header claims 65535x65535 pixels.
	var buf bytes.Buffer
	if err := gif.Encode(&buf, image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.Black}), nil); err != nil {
		t.Fatal(err)
	}
	bomb := buf.Bytes()
	copy(bomb[6:10], []byte{0xff, 0xff, 0xff, 0xff})
	if _, _, _, err := Inspect(bomb); !errors.Is(err, ErrTooLarge) {
		t.Errorf("huge GIF: err %v, want ErrTooLarge", err)
	}
	if _, err := Make(bomb, 128); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Make huge GIF: err %v, want ErrTooLarge", err)
	}
}

func TestExtension(t *testing.T) {
	for format, want := range map[string]string{"jpeg": ".jpg", "png": ".png", "gif": ".gif"} {
		if got := Extension(format); got != want {
			t.Errorf("Extension(%q) = %q, want %q", format, got, want)
		}
	}
}
