// Package thumbnail is the work both clouds' thumbnail_generator functions
// do: check that uploaded bytes are an image sb can handle, and shrink it to
// a thumbnail PNG with the standard library's image packages only (no cgo,
// so the functions compile into static binaries for Lambda's provided.al2023
// and Azure Functions custom handlers).
package thumbnail

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif" // uploads may be GIF, JPEG or PNG
	_ "image/jpeg"
	"image/png"
)

// DefaultWidth is the thumbnail width when the function is not configured.
const DefaultWidth = 128

// MaxPixels bounds the decoded size of an upload: a small compressed file can
// claim enormous dimensions, and decoding it would exhaust a function's memory.
const MaxPixels = 40_000_000

// ErrNotImage means the bytes are not a GIF, JPEG or PNG image.
var ErrNotImage = errors.New("not a GIF, JPEG or PNG image")

// ErrTooLarge means the image's dimensions exceed MaxPixels.
var ErrTooLarge = fmt.Errorf("image larger than %d pixels", MaxPixels)

// Inspect reads only an image's header and returns its format ("gif",
// "jpeg" or "png") and dimensions, refusing anything else and images too
// large to decode.
func Inspect(data []byte) (format string, width, height int, err error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", 0, 0, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return "", 0, 0, fmt.Errorf("%w: empty %dx%d image", ErrNotImage, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return "", 0, 0, fmt.Errorf("%w: %dx%d", ErrTooLarge, cfg.Width, cfg.Height)
	}
	return format, cfg.Width, cfg.Height, nil
}

// Size is the thumbnail size of a w×h image at the given width: the aspect
// ratio is kept (rounded, at least one pixel high) and images narrower than
// width are not enlarged.
func Size(w, h, width int) (int, int) {
	if width <= 0 {
		width = DefaultWidth
	}
	if w <= width {
		return w, h
	}
	th := int((int64(h)*int64(width) + int64(w)/2) / int64(w))
	return width, max(th, 1)
}

// Scale shrinks src to the given width by averaging, for every thumbnail
// pixel, the source pixels it covers (a box filter: no aliasing when the
// reduction is large). Colours are averaged premultiplied by alpha, so
// transparent pixels do not darken their neighbours.
func Scale(src image.Image, width int) *image.RGBA {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dw, dh := Size(sw, sh, width)
	rgba, ok := src.(*image.RGBA)
	if !ok || rgba.Rect.Min != (image.Point{}) {
		rgba = image.NewRGBA(image.Rect(0, 0, sw, sh))
		draw.Draw(rgba, rgba.Rect, src, b.Min, draw.Src)
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for dy := range dh {
		y0, y1 := dy*sh/dh, max((dy+1)*sh/dh, dy*sh/dh+1)
		for dx := range dw {
			x0, x1 := dx*sw/dw, max((dx+1)*sw/dw, dx*sw/dw+1)
			var sum [4]uint64
			for y := y0; y < y1; y++ {
				row := rgba.Pix[y*rgba.Stride+x0*4 : y*rgba.Stride+x1*4]
				for i := 0; i < len(row); i += 4 {
					sum[0] += uint64(row[i])
					sum[1] += uint64(row[i+1])
					sum[2] += uint64(row[i+2])
					sum[3] += uint64(row[i+3])
				}
			}
			n := uint64((y1 - y0) * (x1 - x0))
			o := dst.PixOffset(dx, dy)
			for c := range 4 {
				dst.Pix[o+c] = uint8((sum[c] + n/2) / n)
			}
		}
	}
	return dst
}

// Make decodes a GIF, JPEG or PNG image and returns its thumbnail, width
// pixels wide, encoded as PNG.
func Make(data []byte, width int) ([]byte, error) {
	if _, _, _, err := Inspect(data); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	var out bytes.Buffer
	if err := png.Encode(&out, Scale(img, width)); err != nil {
		return nil, fmt.Errorf("encode thumbnail: %w", err)
	}
	return out.Bytes(), nil
}

// Extension is the file name extension for an Inspect format.
func Extension(format string) string {
	if format == "jpeg" {
		return ".jpg"
	}
	return "." + format
}
