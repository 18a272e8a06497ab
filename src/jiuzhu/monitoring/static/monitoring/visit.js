// Fills the visit form's coordinates from the phone's location, when the worker asks.
document.querySelector("[data-locate]")?.addEventListener("click", () => {
  navigator.geolocation?.getCurrentPosition((p) => {
    const form = document.getElementById("verify");
    form.latitude.value = p.coords.latitude.toFixed(6);
    form.longitude.value = p.coords.longitude.toFixed(6);
  });
});
