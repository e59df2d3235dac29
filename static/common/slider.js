// Learning-rate sliders on both pages move along log10(lr), so 0.001 and 1 are equally easy
// to reach; the value they give is rounded to three significant digits.

export function sliderToLr(position) {
  return Number((10 ** Number(position)).toPrecision(3));
}

export function lrToSlider(lr) {
  return String(Math.log10(lr));
}
