import streamlit as st

st.title("suspect")
st.info("This page is being built.")
